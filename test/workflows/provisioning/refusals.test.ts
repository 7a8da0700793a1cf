import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startOrder } from '../../../src/client/provisioning';
import { ADMIN_USER_SYS_ID } from '../../../src/simulator/server';
import type { provisioningWorkflow } from '../../../src/workflows';
import { cancelUpdate, statusQuery } from '../../../src/contract/messages';
import { tempDir } from '../../helpers/files';
import {
  provisioningWorker,
  simulatorSettings,
  testOrder,
  type ProvisioningHarness,
} from '../../helpers/provisioning';
import { useSimulator } from '../../helpers/simulator';
import { createTimeSkippingEnv } from '../../helpers/temporal';
import { waitFor } from '../../helpers/waitFor';

// Its own simulator: these tests take the connector's write access away and delete tickets.
describe('provisioning when ServiceNow refuses or forgets (time-skipping server)', () => {
  const fixture = useSimulator();
  const dataDir = tempDir();
  let env: TestWorkflowEnvironment;
  let harness: ProvisioningHarness;
  let running: Promise<void>;

  before(async () => {
    env = await createTimeSkippingEnv();
    harness = await provisioningWorker(env, simulatorSettings(fixture.sim, dataDir), 'provisioning-refusals');
    running = harness.worker.run();
  });
  after(async () => {
    harness?.worker.shutdown();
    await running;
    await harness?.ledger.close();
    await env?.teardown();
  });

  async function openOrder() {
    const started = await startOrder(env.client, testOrder(), { taskQueue: harness.taskQueue });
    const handle = env.client.workflow.getHandle<typeof provisioningWorkflow>(started.workflowId);
    const ticket = await waitFor('the ticket', async () => (await handle.query(statusQuery)).ticket);
    return { handle, ticket };
  }

  test('a ticket deleted in ServiceNow ends Errored after repeated misses, not after one', async () => {
    const { handle, ticket } = await openOrder();
    const deleted = await fixture.call(`/api/now/table/incident/${ticket.sysId}`, { method: 'DELETE' });
    assert.equal(deleted.status, 204);
    const result = await handle.result();
    assert.equal(result.provisioningState, 'Errored');
    assert.equal(result.resolution, 'ticket-missing');
    assert.ok(result.checks >= 3, `three reads before giving up (${result.checks})`);
  });

  test('a cancellation ServiceNow refuses still ends the order, saying the ticket is left open', async () => {
    const { handle, ticket } = await openOrder();
    // Take the connector's only write role away: reads still work, the cancel is refused with 403.
    const grants = await fixture.call(
      `/api/now/table/sys_user_has_role?sysparm_query=user=${ADMIN_USER_SYS_ID}&sysparm_fields=sys_id`,
    );
    const { result } = (await grants.json()) as { result: { sys_id: string }[] };
    for (const grant of result) {
      const removed = await fixture.call(`/api/now/table/sys_user_has_role/${grant.sys_id}`, {
        method: 'DELETE',
      });
      assert.equal(removed.status, 204);
    }
    const outcome = await handle.executeUpdate(cancelUpdate, {
      args: [{ reason: 'withdrawn', requestedBy: 'ops' }],
    });
    assert.equal(outcome.provisioningState, 'Errored');
    assert.equal(outcome.resolution, 'revoked');
    assert.match(
      outcome.reason ?? '',
      /revoked by ops: withdrawn; the ticket could not be canceled in ServiceNow/,
    );
    assert.match(outcome.reason ?? '', /403/);
    assert.equal(
      fixture.sim.instance.ticket(ticket.number)?.record.active,
      'true',
      'the ticket is left open',
    );
    const history = await harness.ledger.history(handle.workflowId);
    assert.equal(history.at(-1)?.state, 'Errored');
  });
});
