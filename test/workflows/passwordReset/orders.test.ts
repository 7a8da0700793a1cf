import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import {
  PasswordOrderUnencryptedError,
  startOrder,
  type PasswordRouting,
} from '../../../src/client/provisioning';
import { parseProvisioningInput, type ProvisioningInput } from '../../../src/contract/order';
import type { ProvisioningResult } from '../../../src/contract/provisioning';
import { resourceTypeMappings } from '../../../src/platform/adapters';
import type { provisioningWorkflow } from '../../../src/workflows';
import { CONNECTION } from '../../helpers/provisioning';
import { createTimeSkippingEnv } from '../../helpers/temporal';
import { rawHistoryText } from '../../helpers/historyText';
import { captureStderr } from '../../helpers/logCapture';
import { expectNoSecret } from '../../helpers/secretScan';
import { PASSWORD_RESOURCE_TYPE, PAYLOAD_KEY, usePasswordStack } from './stack';

const PASSWORD = 'Initial-"Pa55"&word/+é';
const SECOND_PASSWORD = 'Second-Initial-Pa55';
/** Too short for the simulator's policy. */
const WEAK_PASSWORD = 'letters-only-second';

let assignments = 0;

/** An Identity Manager order whose Changes carry the mapping's password attribute (InitialPassword). */
function passwordOrder(login: string, password: unknown, assignmentId?: string): ProvisioningInput {
  assignments += 1;
  return parseProvisioningInput({
    connection: CONNECTION,
    order: {
      AssignedResourceTypeId: assignmentId ?? `pw-order-${process.pid}-${assignments}`,
      ChangeType: 'Modified',
      Owner: { Id: 42, Identifier: 'jdoe' },
      ResourceType: { Id: 9, Identifier: PASSWORD_RESOURCE_TYPE },
      Changes: { InitialPassword: password },
      Resource: { Login: login },
    },
  });
}

describe('orders that carry a password (time-skipping server, simulator over HTTP)', () => {
  const stack = usePasswordStack(createTimeSkippingEnv, 'pw-orders');
  const scanned: string[] = [];
  const log = captureStderr();
  after(() => log.stop());

  const routing = (): PasswordRouting => ({
    mappings: resourceTypeMappings(stack.settings),
    client: stack.client,
    key: Buffer.from(PAYLOAD_KEY, 'base64'),
  });

  async function run(input: ProvisioningInput): Promise<{ workflowId: string; result: ProvisioningResult }> {
    const started = await startOrder(stack.env.client, input, {
      taskQueue: stack.taskQueue,
      passwords: routing(),
    });
    scanned.push(started.workflowId);
    const handle = stack.client.workflow.getHandle<typeof provisioningWorkflow>(started.workflowId);
    return { workflowId: started.workflowId, result: await handle.result() };
  }

  async function needsReset(userName: string): Promise<string | undefined> {
    const response = await stack.call(
      `/api/now/table/sys_user?sysparm_query=user_name=${userName}&sysparm_fields=password_needs_reset`,
    );
    return ((await response.json()) as { result: Record<string, string>[] }).result[0]?.password_needs_reset;
  }

  test('goes to the password queue, sets the password instead of opening a ticket, and records Executed', async () => {
    await stack.create('sys_user', { user_name: 'pw.order' });
    const input = passwordOrder('pw.order', PASSWORD);
    const { workflowId, result } = await run(input);
    assert.equal(result.provisioningState, 'Executed');
    assert.equal(result.resolution, 'password-set');
    assert.equal(result.ticket, undefined);
    assert.match(result.reason ?? '', /password set for pw\.order .*password_needs_reset is true/);
    assert.equal(await needsReset('pw.order'), 'true');
    const records = await stack.passwords.ledger.history(workflowId);
    assert.deepEqual(
      records.map((record) => record.state),
      ['Executed'],
    );
    const tickets = await stack.call(`/api/now/table/incident?sysparm_query=correlation_id=${workflowId}`);
    assert.deepEqual(((await tickets.json()) as { result: unknown[] }).result, []);
  });

  test('the same password attaches to the same run; a different one for the same assignment gets its own', async () => {
    await stack.create('sys_user', { user_name: 'pw.twice' });
    const assignment = `pw-twice-${process.pid}`;
    const first = await run(passwordOrder('pw.twice', PASSWORD, assignment));
    const again = await startOrder(stack.env.client, passwordOrder('pw.twice', PASSWORD, assignment), {
      taskQueue: stack.taskQueue,
      passwords: routing(),
    });
    assert.equal(again.workflowId, first.workflowId);
    assert.equal(again.started, false);
    const second = await run(passwordOrder('pw.twice', SECOND_PASSWORD, assignment));
    assert.notEqual(second.workflowId, first.workflowId);
    assert.equal(second.result.provisioningState, 'Executed');
  });

  test('a refusal ends Errored with the reason, and Identity Manager is told', async () => {
    const unknown = await run(passwordOrder('pw.nobody', PASSWORD));
    assert.equal(unknown.result.provisioningState, 'Errored');
    assert.equal(unknown.result.resolution, 'password-refused');
    assert.match(
      unknown.result.reason ?? '',
      /^the password could not be set \(unknown user\): No ServiceNow user/,
    );
    await stack.create('sys_user', { user_name: 'pw.weak' });
    const weak = await run(passwordOrder('pw.weak', WEAK_PASSWORD));
    assert.match(weak.result.reason ?? '', /\(rejected by the password policy\)/);
    const [record] = await stack.passwords.ledger.history(weak.workflowId);
    assert.equal(record?.state, 'Errored');
    assert.match(record?.detail?.reason ?? '', /rejected by the password policy/);
  });

  test('an order without its password on the password queue ends Errored; nothing is sent', async () => {
    const input = passwordOrder('pw.order', PASSWORD);
    const handle = await stack.client.workflow.start('provisioningWorkflow', {
      taskQueue: `${stack.taskQueue}-passwords`,
      workflowId: `no-password-${process.pid}`,
      args: [{ ...input, order: { ...input.order, Changes: { Other: 'x' } } }],
    });
    scanned.push(handle.workflowId);
    const result = (await handle.result()) as ProvisioningResult;
    assert.equal(result.provisioningState, 'Errored');
    assert.match(result.reason ?? '', /\(no password in the order\): .*carries no password attribute/);
  });

  test('on the ticket queue an order that carries a password is refused: no ticket, Errored', async () => {
    // A client that does not route (no mappings): the order reaches the ticket queue's worker.
    const started = await startOrder(stack.client, passwordOrder('pw.order', PASSWORD), {
      taskQueue: stack.taskQueue,
    });
    const handle = stack.client.workflow.getHandle<typeof provisioningWorkflow>(started.workflowId);
    await assert.rejects(handle.result());
    const [record] = await stack.tickets.ledger.history(started.workflowId);
    assert.equal(record?.state, 'Errored');
    assert.match(record?.detail?.reason ?? '', /never goes into a ticket: start it on "pw-orders-passwords"/);
    const tickets = await stack.call(
      `/api/now/table/incident?sysparm_query=correlation_id=${started.workflowId}`,
    );
    assert.deepEqual(((await tickets.json()) as { result: unknown[] }).result, []);
  });

  test('without an active payload key the client refuses to start it', async () => {
    await assert.rejects(
      startOrder(stack.env.client, passwordOrder('pw.order', PASSWORD), {
        taskQueue: stack.taskQueue,
        passwords: { mappings: resourceTypeMappings(stack.settings) },
      }),
      PasswordOrderUnencryptedError,
    );
  });

  test('the password queue runs hold no password in their raw histories, workflow ids or the worker log', async () => {
    assert.match(log.text(), /NoPasswordInOrder|UnknownUser/, 'the worker log was captured');
    expectNoSecret(log.text(), [PASSWORD, SECOND_PASSWORD, WEAK_PASSWORD], 'the worker log');
    assert.ok(scanned.length >= 5);
    for (const workflowId of scanned) {
      expectNoSecret(workflowId, [PASSWORD, SECOND_PASSWORD], 'the workflow id');
      const history = await stack.env.client.workflow.getHandle(workflowId).fetchHistory();
      expectNoSecret(
        rawHistoryText(history),
        [PASSWORD, SECOND_PASSWORD, WEAK_PASSWORD],
        `the history of ${workflowId}`,
      );
    }
  });
});
