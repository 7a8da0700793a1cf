import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startOrder } from '../../src/client/provisioning';
import type { ProvisioningInput } from '../../src/provisioning/order';
import type { provisioningWorkflow } from '../../src/workflows';
import { statusQuery } from '../../src/workflows/provisioning/messages';
import { tempDir } from '../helpers/files';
import {
  provisioningWorker,
  simulatorSettings,
  testOrder,
  type ProvisioningHarness,
} from '../helpers/provisioning';
import { useSimulator } from '../helpers/simulator';
import { createDevServerEnv } from '../helpers/temporal';
import { waitFor } from '../helpers/waitFor';

// Finding the pending grants needs visibility queries, which only the dev server answers.
describe('a Deleted order supersedes pending grants (dev server)', () => {
  const fixture = useSimulator();
  const dataDir = tempDir();
  let env: TestWorkflowEnvironment;
  let harness: ProvisioningHarness;
  let running: Promise<void>;

  before(async () => {
    env = await createDevServerEnv();
    const settings = simulatorSettings(fixture.sim, dataDir, {
      Polling: { FirstCheckAfter: '1s', MaxInterval: '2s' },
    });
    harness = await provisioningWorker(env, settings, 'provisioning-supersede');
    running = harness.worker.run();
  });
  after(async () => {
    harness?.worker.shutdown();
    await running;
    await harness?.ledger.close();
    await env?.teardown();
  });

  function ticketsOf(workflowId: string) {
    return fixture.sim.instance
      .tickets(['incident'], 'all')
      .filter((ticket) => ticket.correlation_id === workflowId);
  }

  test('the pending Added order is revoked and its ticket canceled before the removal is ticketed', async () => {
    const added = testOrder();
    const addedStart = await startOrder(env.client, added, { taskQueue: harness.taskQueue });
    const addedHandle = env.client.workflow.getHandle<typeof provisioningWorkflow>(addedStart.workflowId);
    const addedTicket = await waitFor(
      'the grant ticket',
      async () => (await addedHandle.query(statusQuery)).ticket,
    );
    // Visibility is eventually consistent: wait until the grant can be found by its assignment.
    await waitFor('the grant to be visible', async () => {
      const query = `AssignmentId = '${added.order.AssignedResourceTypeId}' AND ExecutionStatus = 'Running'`;
      for await (const execution of env.client.workflow.list({ query })) return execution;
      return undefined;
    });

    const deleted: ProvisioningInput = { ...added, order: { ...added.order, ChangeType: 'Deleted' } };
    const started = await startOrder(env.client, deleted, {
      taskQueue: harness.taskQueue,
      requestedBy: 'idm',
    });
    assert.equal(started.started, true);
    assert.deepEqual(started.superseded, [addedHandle.workflowId]);

    const addedResult = await addedHandle.result();
    assert.equal(addedResult.provisioningState, 'Errored');
    assert.equal(addedResult.resolution, 'revoked');
    assert.match(addedResult.reason ?? '', /revoked by idm: superseded by the Deleted order/);
    assert.equal(fixture.sim.instance.ticket(addedTicket.number)?.record.active, 'false');

    const deletedHandle = env.client.workflow.getHandle<typeof provisioningWorkflow>(started.workflowId);
    const removal = await waitFor(
      'the removal ticket',
      async () => (await deletedHandle.query(statusQuery)).ticket,
    );
    assert.notEqual(removal.number, addedTicket.number);
    assert.equal(ticketsOf(started.workflowId).length, 1);
    fixture.sim.instance.actOnTicket(removal.number, { action: 'close' });
    assert.equal((await deletedHandle.result()).provisioningState, 'Executed');
    assert.deepEqual(
      (await harness.ledger.list({ assignmentId: added.order.AssignedResourceTypeId })).map((view) => [
        view.changeType,
        view.state,
      ]),
      [
        ['Deleted', 'Executed'],
        ['Added', 'Errored'],
      ],
    );
  });
});
