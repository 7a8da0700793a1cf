import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { before, describe, test } from 'node:test';
import { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { historyJSON, type History } from '../../src/audit/histories';
import { openHistory } from '../../src/audit/historyDecoding';
import { startOrder } from '../../src/client/provisioning';
import { statusQuery, ticketChangedSignal } from '../../src/contract/messages';
import { parseSettings } from '../../src/config/load';
import { startCodecServer } from '../../src/codec/server';
import { payloadKeyring, ordersDataConverter } from '../../src/platform/encryption';
import { requireBinary } from '../../src/platform/temporalBinaries';
import type { provisioningWorkflow } from '../../src/workflows';
import { type CliResult, ok, runCli } from '../helpers/cli';
import { writeJson } from '../helpers/files';
import {
  CONNECTION,
  provisioningWorker,
  RESOURCE_TYPES,
  simulatorConnection,
  testOrder,
  useProvisioningWorker,
} from '../helpers/provisioning';
import { basicAuthorization } from '../helpers/simulator';
import { createDevServerEnv } from '../helpers/temporal';
import { waitFor } from '../helpers/waitFor';
import { expectNoSecret, secretForms } from '../helpers/secretScan';
import { encryptionSettings } from '../helpers/encryption';

/**
 * Orders with TicketConnector.Encryption.EncryptOrders, end to end: a real worker on a dev server runs them
 * through the ServiceNow simulator. What the server keeps (history, execution record, search attributes) holds
 * no personal data of the order in any form; with the keys the same history reads in full; failure messages are
 * sealed too; and the CLI's status, audit and replay read encrypted histories with the keys and say which key
 * is missing without them.
 */

const KEY_ID = 'k2026';
const ENCRYPTION = {
  Keys: { [KEY_ID]: randomBytes(32).toString('base64') },
  ActiveKey: KEY_ID,
  EncryptOrders: true,
};
/** Personal data of the order: unusual values, so that a match cannot be a coincidence. */
const PERSON = {
  name: 'Zelda Quintessa-Marlowe',
  identifier: 'zquintessa.owner',
  login: 'zq.login.4711',
  attribute: 'Vexillum cost centre 77',
};
const PERSONAL = Object.values(PERSON);

function encryptedOrder() {
  return testOrder(RESOURCE_TYPES.incident, {
    Owner: { Id: 4711, Identifier: PERSON.identifier, InternalDisplayName: PERSON.name },
    Changes: { Login: PERSON.login, CostCentre: PERSON.attribute },
  });
}

/** Every form the server's copy of a history takes: proto JSON (bytes as base64) and the binary message. */
function rawTexts(history: History): string {
  const binary = Buffer.from(temporal.api.history.v1.History.encode(history).finish());
  return [historyJSON(history), binary.toString('latin1'), binary.toString('utf8')].join('\n');
}

describe('encrypted provisioning orders, end to end (dev server, worker with EncryptOrders, simulator)', () => {
  const taskQueue = 'codec-e2e';
  const fixture = useProvisioningWorker({
    createEnv: createDevServerEnv,
    taskQueue,
    settings: {
      Polling: { FirstCheckAfter: '1s', MaxInterval: '2s', BackoffCoefficient: 2, Jitter: 0.1 },
      Encryption: ENCRYPTION,
    },
  });
  let client: Client;
  let workflowId: string;
  let rawHistory: History;
  let withKeys: string;
  let withoutKeys: string;

  before(async () => {
    // Identity Manager's side: a client with the same codec (EncryptOrders seals what it sends).
    client = new Client({
      connection: fixture.env.connection,
      namespace: fixture.env.namespace ?? 'default',
      dataConverter: ordersDataConverter(fixture.harness.settings.TicketConnector.Encryption),
    });
    const started = await startOrder(client, encryptedOrder(), { taskQueue });
    workflowId = started.workflowId;
    const handle = client.workflow.getHandle<typeof provisioningWorkflow>(workflowId);
    const ticket = await waitFor('the ticket', async () => (await handle.query(statusQuery)).ticket);
    fixture.sim.instance.actOnTicket(ticket.number, { action: 'close' });
    await handle.signal(ticketChangedSignal, { source: 'test' });
    assert.equal((await handle.result()).provisioningState, 'Executed');
    // Without the codec: the client the test server gives has the default data converter.
    rawHistory = await fixture.env.client.workflow.getHandle(workflowId).fetchHistory();

    const cliSettings = (encryption: Record<string, unknown>) => ({
      Connections: simulatorConnection(fixture.sim),
      TicketConnector: { Encryption: encryption },
    });
    withKeys = fixture.writeCliSettings(cliSettings({ Keys: ENCRYPTION.Keys }));
    // The same server and queue, no keys: what an operator without access to them has.
    withoutKeys = writeJson(fixture.dataDir, 'cli-settings-without-keys.json', {
      Connections: simulatorConnection(fixture.sim),
      TicketConnector: {
        DataDirectory: fixture.dataDir,
        Temporal: {
          Address: fixture.env.address,
          Namespace: fixture.env.namespace ?? 'default',
          TaskQueue: taskQueue,
        },
      },
    });
  });

  test('the history the server keeps holds no personal data of the order, in any form', () => {
    assert.ok((rawHistory.events?.length ?? 0) > 5, 'the history has the events of a whole order');
    expectNoSecret(rawTexts(rawHistory), PERSONAL, 'the raw history');
    assert.match(historyJSON(rawHistory), /YmluYXJ5L2VuY3J5cHRlZA==/, 'payloads are marked binary/encrypted');
  });

  test('the execution record and its search attributes hold ids and states only', async () => {
    const raw = await fixture.env.client.workflowService.describeWorkflowExecution({
      namespace: fixture.env.namespace ?? 'default',
      execution: { workflowId },
    });
    const binary = Buffer.from(
      temporal.api.workflowservice.v1.DescribeWorkflowExecutionResponse.encode(raw).finish(),
    );
    expectNoSecret(
      [JSON.stringify(raw), binary.toString('latin1'), binary.toString('utf8')].join('\n'),
      PERSONAL,
      'the execution record',
    );
    const description = await fixture.env.client.workflow.getHandle(workflowId).describe();
    const attributes = JSON.stringify(description.searchAttributes);
    expectNoSecret(attributes, PERSONAL, 'the search attributes');
    assert.match(attributes, /Executed/, 'the search attributes keep the state');
  });

  test('with the keys, the same history reads in full', async () => {
    const copy = temporal.api.history.v1.History.decode(
      temporal.api.history.v1.History.encode(rawHistory).finish(),
    );
    const opened = await openHistory(
      copy,
      payloadKeyring(encryptionSettings(ENCRYPTION)),
      'the test history',
    );
    const text = Buffer.from(temporal.api.history.v1.History.encode(opened).finish()).toString('utf8');
    for (const value of PERSONAL) assert.ok(text.includes(value), `the opened history shows "${value}"`);
  });

  test('the temporal CLI shows the history in clear through the codec server, with its token only', async () => {
    const token = randomBytes(24).toString('base64url');
    const codec = await startCodecServer({
      keyring: payloadKeyring(encryptionSettings(ENCRYPTION)),
      token,
      allowedOrigins: [],
    });
    const show = (auth: string) =>
      promisify(execFile)(
        requireBinary('cli'),
        [
          'workflow',
          'show',
          '--workflow-id',
          workflowId,
          '--address',
          fixture.env.address,
          '--namespace',
          fixture.env.namespace ?? 'default',
          '--codec-endpoint',
          codec.url,
          '--codec-auth',
          auth,
          '--output',
          'json',
        ],
        { maxBuffer: 16 * 1024 * 1024 },
      ).then(
        ({ stdout }) => ({ ok: true, output: stdout }),
        (error: { stdout?: string; stderr?: string }) => ({
          ok: false,
          output: `${error.stdout ?? ''}${error.stderr ?? ''}`,
        }),
      );
    try {
      const shown = await show(`Bearer ${token}`);
      assert.ok(shown.ok, shown.output);
      // JSON output carries payload data as base64: decoded, it holds the order.
      assert.ok(
        secretForms(PERSON.name).some(({ text }) => shown.output.includes(text)),
        'the CLI shows the owner through the codec server',
      );
      const refused = await show('Bearer not-the-token-at-all');
      expectNoSecret(refused.output, PERSONAL, 'the CLI without the codec token');
    } finally {
      await codec.close();
    }
  });

  const cli = async (settingsFile: string, ...args: string[]): Promise<CliResult> =>
    runCli(['--config', settingsFile, ...args]);

  function refusedNamingTheKey(result: CliResult): void {
    assert.equal(
      result.status,
      2,
      `exit ${result.status}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`,
    );
    assert.match(result.stderr, new RegExp(`key "${KEY_ID}"`));
    assert.match(result.stderr, /TicketConnector\.Encryption\.Keys/);
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
    expectNoSecret(result.stdout + result.stderr, PERSONAL, 'the refusal');
  }

  test('status reads the encrypted order with the keys, and names the missing key without them', async () => {
    const shown = ok(await cli(withKeys, 'status', workflowId));
    assert.match(shown.stdout, /Executed/);
    refusedNamingTheKey(await cli(withoutKeys, 'status', workflowId));
  });

  test('audit reads the encrypted history from the server and from a downloaded file with the keys only', async () => {
    const timeline = ok(await cli(withKeys, 'audit', workflowId, '--json')).stdout;
    assert.ok(
      timeline.includes(PERSON.identifier) || timeline.includes(PERSON.name),
      'the audit shows the order',
    );
    refusedNamingTheKey(await cli(withoutKeys, 'audit', workflowId));

    const file = writeJson(fixture.dataDir, 'encrypted-history.json', historyJSON(rawHistory));
    const fromFile = ok(await cli(withKeys, 'audit', '--file', file, '--json')).stdout;
    const fileTimeline = JSON.parse(fromFile) as { workflowId?: string; entries: { kind: string }[] };
    assert.equal(fileTimeline.workflowId, workflowId);
    assert.ok(fileTimeline.entries.length > 3, 'the timeline has the entries of a whole order');
    assert.ok(fromFile.includes(PERSON.identifier) || fromFile.includes(PERSON.name));
    const refused = await cli(withoutKeys, 'audit', '--file', file);
    refusedNamingTheKey(refused);
    assert.match(refused.stderr, new RegExp(path.basename(file).replace('.', '\\.')));
  });

  test('replay replays the encrypted history with the keys, and names the missing key without them', async () => {
    const file = writeJson(fixture.dataDir, 'replay-history.json', historyJSON(rawHistory));
    const replayed = ok(await cli(withKeys, 'replay', '--file', file));
    assert.match(replayed.stdout, /1 replayed: 1 OK/);
    refusedNamingTheKey(await cli(withoutKeys, 'replay', '--file', file));
  });

  test('an activity failure is sealed too: no ServiceNow message or stack trace in clear', async () => {
    // A ServiceNow user without roles: creating the ticket is refused with ServiceNow's ACL message.
    const login = 'no.roles.codec';
    const password = randomBytes(12).toString('base64url');
    const created = await fetch(`${fixture.sim.tableApiUrl}/sys_user?sysparm_input_display_value=true`, {
      method: 'POST',
      headers: {
        authorization: basicAuthorization(fixture.sim.credentials.login, fixture.sim.credentials.password),
        'content-type': 'application/json',
      },
      body: JSON.stringify({ user_name: login, user_password: password }),
    });
    assert.equal(created.status, 201);
    const base = fixture.harness.settings;
    const settings = parseSettings(
      {
        ...base,
        Connections: { [CONNECTION]: { ...base.Connections[CONNECTION], Login: login, Password: password } },
        TicketConnector: {
          ...base.TicketConnector,
          Encryption: ENCRYPTION,
          DataDirectory: base.TicketConnector.DataDirectory,
        },
      },
      'restricted test settings',
    );
    const restrictedQueue = 'codec-e2e-acl';
    const harness = await provisioningWorker(fixture.env, settings, restrictedQueue);
    const running = harness.worker.run();
    try {
      const { workflowId: failing } = await startOrder(client, encryptedOrder(), {
        taskQueue: restrictedQueue,
      });
      const raw = fixture.env.client.workflow.getHandle(failing);
      // The refusal is recorded in the history (a final failure) or, while retried, on the pending activity.
      const failureRecord = await waitFor(
        'the activity failure',
        async () => {
          const history = await raw.fetchHistory();
          if (history.events?.some((event) => event.activityTaskFailedEventAttributes)) {
            return { where: 'history', history, text: rawTexts(history) };
          }
          const described = await fixture.env.client.workflowService.describeWorkflowExecution({
            namespace: fixture.env.namespace ?? 'default',
            execution: { workflowId: failing },
          });
          const pending = described.pendingActivities?.find((activity) => activity.lastFailure);
          return pending === undefined
            ? undefined
            : { where: 'pending activity', history, text: JSON.stringify(pending.lastFailure) };
        },
        { intervalMs: 250 },
      );
      assert.match(
        failureRecord.text,
        /Encoded failure/,
        `the ${failureRecord.where} holds the sealed failure`,
      );
      expectNoSecret(
        failureRecord.text,
        [
          'ACL Exception',
          'security constraints',
          'Operation Failed',
          'User Not Authenticated',
          'toActivityFailure',
          PERSON.name,
        ],
        `the ${failureRecord.where}`,
      );
      if (failureRecord.where === 'history') {
        const opened = await openHistory(
          failureRecord.history,
          payloadKeyring(encryptionSettings(ENCRYPTION)),
          'the test history',
        );
        const failed = opened.events?.find((event) => event.activityTaskFailedEventAttributes);
        assert.match(
          failed?.activityTaskFailedEventAttributes?.failure?.message ?? '',
          /ACL Exception|Operation Failed/,
        );
      }
    } finally {
      harness.worker.shutdown();
      await running;
      await harness.ledger.close();
    }
  });
});
