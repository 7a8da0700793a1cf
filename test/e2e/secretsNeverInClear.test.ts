/**
 * The issue's acceptance scan: a worker process and `snow-ticket` processes whose every secret comes from a
 * credential store (ServiceNow password from CyberArk, the active payload key from Azure Key Vault, a retired key
 * from the encrypted settings file, the certificate's password from the environment) run password resets (set,
 * refused by policy, unknown user), an encrypted provisioning order to Executed and an order carrying a password.
 * Then every stored history (read without the codec), the Temporal server's database file, every line the worker
 * logged and every CLI output is searched for each secret in every written form, and the histories and database
 * also for the orders' personal data. None may be found.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { childEnv, startNodeChild, type Child } from '../../scripts/chaos/children';
import { parseProvisioningInput } from '../../src/contract/order';
import { runCli, type CliResult } from '../helpers/cli';
import { tempDir, writeJson } from '../helpers/files';
import { storedHistories } from '../helpers/historyText';
import { expectNoSecret } from '../helpers/secretScan';
import { useSimulator } from '../helpers/simulator';
import { createDevServerEnv } from '../helpers/temporal';
import { waitFor } from '../helpers/waitFor';
import {
  makeCa,
  makeClientCertificate,
  makeEncryptionCertificate,
  makeServerCertificate,
  writePfx,
} from '../credentials/fixtures/certificates';
import { useFakeCyberArk } from '../credentials/fixtures/fakeCyberArk';
import { useFakeKeyVault, writeHostsPreload } from '../credentials/fixtures/fakeKeyVault';

const CONNECTION = 'Sim';
const TASK_QUEUE = 'secrets-e2e';
const SERVICENOW_PASSWORD = `sn-${randomBytes(9).toString('base64url')}`;
const ACTIVE_KEY = randomBytes(32).toString('base64');
const RETIRED_KEY = randomBytes(32).toString('base64');
const PASSWORD_KEY = randomBytes(32).toString('base64');
const CERTIFICATE_PASSWORD = `pfx-${randomBytes(9).toString('base64url')}`;
const CLIENT_CERTIFICATE_PASSWORD = `tls-${randomBytes(9).toString('base64url')}`;
const RESET_PASSWORD = 'Reset-"Pa55"&word/+é';
const ORDER_PASSWORD = 'Order-Pa55/word+=?';
const SECRETS = [
  SERVICENOW_PASSWORD,
  ACTIVE_KEY,
  RETIRED_KEY,
  PASSWORD_KEY,
  CERTIFICATE_PASSWORD,
  CLIENT_CERTIFICATE_PASSWORD,
  RESET_PASSWORD,
  ORDER_PASSWORD,
];
/** What an encrypted order says about its person: absent from everything Temporal stores. */
const ACCOUNT_USER = 'secret.scan.user';
const ORDER_USER = 'secret.scan.account';
/** The users whose passwords are set count too: a login is personal data. */
const PERSONAL = [
  'Marguerite Delacroix-Okonkwo',
  'm.delacroix.okonkwo',
  'Finance approver since 2019',
  ACCOUNT_USER,
  ORDER_USER,
];

const ca = makeCa();
const serverCertificate = makeServerCertificate(ca);
const vault = useFakeKeyVault(() => serverCertificate);
const ccp = useFakeCyberArk(() => ({ server: serverCertificate, ca, clientName: 'snow-ticket-agent' }));
const simulator = useSimulator({ admin: { login: 'admin', password: SERVICENOW_PASSWORD } });

describe('secrets and personal data never in clear (stores, password resets, encrypted orders)', () => {
  const dir = tempDir();
  const database = path.join(dir, 'temporal.db');
  const outputs: { what: string; result: CliResult }[] = [];
  let env: TestWorkflowEnvironment;
  let worker: Child;
  let workerLog = '';
  let settingsFile: string;
  let childVariables: Record<string, string>;

  before(async () => {
    env = await createDevServerEnv({ dbFilename: database });
    const caFile = path.join(dir, 'ca.pem');
    writeFileSync(caFile, ca.certificatePem);
    const settingsCertificate = makeEncryptionCertificate();
    writePfx(dir, 'settings.pfx', settingsCertificate, CERTIFICATE_PASSWORD);
    writePfx(dir, 'agent.pfx', makeClientCertificate(ca, 'snow-ticket-agent'), CLIENT_CERTIFICATE_PASSWORD);
    vault.secrets.set('TicketConnector--Encryption--Keys--k1', { value: ACTIVE_KEY, enabled: true });
    writeJson(dir, 'appsettings.cyberark.agent.json', {
      Connections: { [CONNECTION]: { Password: 'SnowConnector' } },
    });
    ccp.accounts.set('SnowConnector', SERVICENOW_PASSWORD);
    const mapping = {
      Connection: CONNECTION,
      CallerId: 'admin',
      TitleTemplate: '{{ChangeType}} {{ResourceType.Identifier}} for {{Owner.InternalDisplayName}}',
      DescriptionTemplate: 'Grant {{ResourceType.Identifier}} to {{Owner.Identifier}} ({{Changes.Note}}).',
    };
    settingsFile = writeJson(dir, 'appsettings.agent.json', {
      Connections: { [CONNECTION]: { Server: simulator.sim.tableApiUrl, Login: 'admin' } },
      EncryptionCertificate: { File: 'settings.pfx' },
      AzureKeyVault: { Vault: vault.azureUrl },
      CyberArk: {
        Server: ccp.url,
        ApplicationId: ccp.applicationId,
        Safe: ccp.safe,
        ClientCertificate: { File: 'agent.pfx', Password: 'from the environment' },
      },
      TicketConnector: {
        DataDirectory: path.join(dir, 'data'),
        Temporal: { Address: env.address, Namespace: env.namespace ?? 'default', TaskQueue: TASK_QUEUE },
        Polling: { FirstCheckAfter: '1s', MaxInterval: '2s' },
        Encryption: { ActiveKey: 'k1', ActivePasswordKey: 'passwords-1', EncryptOrders: true },
        ResourceTypeMappings: {
          App_Access: mapping,
          App_Account: { ...mapping, Password: { Attribute: 'InitialPassword', UserAttribute: 'Login' } },
        },
      },
    });
    childVariables = {
      SNOW_CONNECTOR_CONFIG: settingsFile,
      NODE_EXTRA_CA_CERTS: caFile,
      NODE_OPTIONS: `--require ${writeHostsPreload(dir)}`,
      IDENTITY_ENDPOINT: vault.identityEndpoint,
      IDENTITY_HEADER: vault.identityHeader,
      SNOW_CONNECTOR__EncryptionCertificate__Password: CERTIFICATE_PASSWORD,
      SNOW_CONNECTOR__CyberArk__ClientCertificate__Password: CLIENT_CERTIFICATE_PASSWORD,
    };
    const protect = async (setting: string, value: string) => {
      const sealed = await cli(`protect ${setting}`, ['protect', '--setting', setting], value);
      assert.equal(sealed.status, 0, sealed.stderr);
      return sealed.stdout.trim();
    };
    writeJson(dir, 'appsettings.encrypted.agent.json', {
      TicketConnector: {
        Encryption: {
          Keys: { k0: await protect('TicketConnector.Encryption.Keys.k0', RETIRED_KEY) },
          PasswordKeys: {
            'passwords-1': await protect('TicketConnector.Encryption.PasswordKeys.passwords-1', PASSWORD_KEY),
          },
        },
      },
    });
    await simulator.create('sys_user', { user_name: ACCOUNT_USER });
    await simulator.create('sys_user', { user_name: ORDER_USER });
    worker = startNodeChild('worker', 'src/worker.ts', [], {
      env: childEnv(childVariables),
      logFile: path.join(dir, 'worker.log'),
    });
    worker.onLine((line) => (workerLog += `${line}\n`));
    await worker.waitForLine(/^Password resets on task queue/, 180_000);
  });

  after(async () => {
    await worker?.stop();
    await env?.teardown();
  });

  async function cli(what: string, args: readonly string[], input?: string): Promise<CliResult> {
    const result = await runCli(args, { env: childVariables, ...(input === undefined ? {} : { input }) });
    outputs.push({ what, result });
    return result;
  }

  function order(resourceType: string, assignment: string, changes: Record<string, unknown>) {
    return parseProvisioningInput({
      connection: CONNECTION,
      order: {
        AssignedResourceTypeId: assignment,
        ChangeType: 'Added',
        Owner: { Id: 9, Identifier: PERSONAL[1], InternalDisplayName: PERSONAL[0] },
        ResourceType: { Id: 3, Identifier: resourceType },
        Changes: changes,
      },
    });
  }

  test('config check names every store a secret came from, and no value', async () => {
    const result = await cli('config check', ['config', 'check']);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /Connections\.Sim\.Password.*CyberArk/);
    assert.match(result.stdout, /Encryption\.Keys\.k1.*Azure Key Vault/);
    assert.match(result.stdout, /Encryption\.Keys\.k0.*encrypted/i);
    assert.match(
      result.stdout,
      /EncryptionCertificate\.Password.*SNOW_CONNECTOR__EncryptionCertificate__Password/,
    );
  });

  test('password resets: set, refused by the policy, unknown user', async () => {
    const reset = (user: string, password: string) =>
      cli(
        `password reset ${user}`,
        ['password', 'reset', '--connection', CONNECTION, '--user-name', user, '--password-stdin'],
        password,
      );
    const set = await reset(ACCOUNT_USER, RESET_PASSWORD);
    assert.equal(set.status, 0, set.stderr);
    assert.match(set.stdout, /password_needs_reset: true/);
    const weak = await reset(ACCOUNT_USER, 'weakpassword');
    assert.equal(weak.status, 1);
    assert.match(weak.stderr, /password policy/i);
    const unknown = await reset('no.such.user', RESET_PASSWORD);
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /Unknown user/);
  });

  test('an encrypted order runs to Executed; an order carrying a password sets it', async () => {
    const access = order('App_Access', 'scan-1', { Note: PERSONAL[2] });
    const started = await cli('provision access', [
      'provision',
      writeJson(dir, 'access.json', access),
      '--json',
    ]);
    assert.equal(started.status, 0, started.stderr);
    const [{ workflowId }] = JSON.parse(started.stdout) as [{ workflowId: string }];
    const ticket = await waitFor(
      'the ticket of the encrypted order',
      () =>
        simulator.sim.instance
          .tickets(['incident'], 'all')
          .find((candidate) => candidate.correlation_id === workflowId),
      { intervalMs: 200 },
    );
    simulator.sim.instance.actOnTicket(ticket.number, { action: 'close' });
    const account = order('App_Account', 'scan-2', { Login: ORDER_USER, InitialPassword: ORDER_PASSWORD });
    const routed = await cli('provision account', [
      'provision',
      writeJson(dir, 'account.json', account),
      '--json',
    ]);
    assert.equal(routed.status, 0, routed.stderr);
    const [{ workflowId: accountId }] = JSON.parse(routed.stdout) as [{ workflowId: string }];
    for (const id of [workflowId, accountId]) {
      await waitFor(
        `${id} to record its outcome`,
        async () => {
          const status = await cli(`status ${id}`, ['status', id]);
          return /Provisioning state\s+Executed/.test(status.stdout) ? status : undefined;
        },
        { intervalMs: 1000, timeoutMs: 120_000 },
      );
      const audit = await cli(`audit ${id}`, ['audit', id]);
      assert.equal(audit.status, 0, audit.stderr);
    }
    // The worker opened the sealed order with the key from the vault: the ticket names the person.
    assert.match(ticket.short_description, new RegExp(PERSONAL[0] ?? 'missing'));
    const user = simulator.sim.instance.user(ORDER_USER);
    assert.equal(user?.password_needs_reset, 'true');
    assert.equal(user?.password_set, true);
  });

  test('no history, database page, log line or CLI output holds a secret; Temporal holds no personal data', async () => {
    const connection = await Connection.connect({ address: env.address });
    try {
      const plain = new Client({ connection, namespace: env.namespace ?? 'default' });
      const histories = await storedHistories(plain);
      assert.ok(histories.length >= 5, `expected the resets and orders, found ${histories.length} histories`);
      for (const { workflowId, text } of histories) {
        expectNoSecret(text, [...SECRETS, ...PERSONAL], `the stored history of ${workflowId}`);
      }
      // The scan reads what the server keeps: ids and search attributes in clear, payloads sealed.
      const all = histories.map(({ text }) => text).join('\n');
      assert.match(all, /INC\d{7}/, 'the ticket number (a search attribute) is readable');
      assert.match(all, /binary\/encrypted/, 'payloads are sealed');
      const resets = histories.filter(({ workflowId }) => workflowId.startsWith('password-reset:'));
      assert.equal(resets.length, 3);
      for (const { text } of resets)
        assert.match(text, /passwords-1/, 'resets are sealed with the password key');
    } finally {
      await connection.close();
    }
    const files = [database, `${database}-wal`].filter((file) => existsSync(file));
    assert.ok(files.length > 0, 'the dev server kept its database file');
    for (const file of files) {
      expectNoSecret(readFileSync(file).toString('latin1'), [...SECRETS, ...PERSONAL].filter(ascii), file);
      expectNoSecret(readFileSync(file).toString('utf8'), [...SECRETS, ...PERSONAL], file);
    }
    assert.ok(workerLog.includes('Worker polling task queue'), 'the worker log was captured');
    expectNoSecret(workerLog, SECRETS, 'the worker log');
    assert.ok(outputs.length >= 9, 'every command ran');
    for (const { what, result } of outputs) {
      expectNoSecret(`${result.stdout}\n${result.stderr}`, SECRETS, `the output of ${what}`);
    }
  });
});

function ascii(text: string): boolean {
  return /^[\x20-\x7e]*$/.test(text);
}
