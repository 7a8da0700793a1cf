import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startOrder } from '../../../src/client/provisioning';
import type { ProvisioningInput } from '../../../src/contract/order';
import type { provisioningWorkflow } from '../../../src/workflows';
import { statusQuery } from '../../../src/contract/messages';
import { testOrder, useProvisioningWorker } from '../../helpers/provisioning';
import { createDevServerEnv } from '../../helpers/temporal';
import { waitFor } from '../../helpers/waitFor';

// Finding the pending grants needs visibility queries, which only the dev server answers.
describe('a Deleted order supersedes pending grants (dev server)', () => {
  const fixture = useProvisioningWorker({
    createEnv: createDevServerEnv,
    taskQueue: 'provisioning-supersede',
    settings: { Polling: { FirstCheckAfter: '1s', MaxInterval: '2s' } },
  });

  function ticketsOf(workflowId: string) {
    return fixture.sim.instance
      .tickets(['incident'], 'all')
      .filter((ticket) => ticket.correlation_id === workflowId);
  }

  test('the pending Added order is revoked and its ticket canceled before the removal is ticketed', async () => {
    const added = testOrder();
    const addedStart = await startOrder(fixture.env.client, added, { taskQueue: fixture.harness.taskQueue });
    const addedHandle = fixture.env.client.workflow.getHandle<typeof provisioningWorkflow>(
      addedStart.workflowId,
    );
    const addedTicket = await waitFor(
      'the grant ticket',
      async () => (await addedHandle.query(statusQuery)).ticket,
    );
    // Visibility is eventually consistent: wait until the grant can be found by its assignment.
    await waitFor('the grant to be visible', async () => {
      const query = `AssignmentId = '${added.order.AssignedResourceTypeId}' AND ExecutionStatus = 'Running'`;
      for await (const execution of fixture.env.client.workflow.list({ query })) return execution;
      return undefined;
    });

    const deleted: ProvisioningInput = { ...added, order: { ...added.order, ChangeType: 'Deleted' } };
    const started = await startOrder(fixture.env.client, deleted, {
      taskQueue: fixture.harness.taskQueue,
      requestedBy: 'idm',
    });
    assert.equal(started.started, true);
    assert.deepEqual(started.superseded, [addedHandle.workflowId]);

    const addedResult = await addedHandle.result();
    assert.equal(addedResult.provisioningState, 'Errored');
    assert.equal(addedResult.resolution, 'revoked');
    assert.match(addedResult.reason ?? '', /revoked by idm: superseded by the Deleted order/);
    assert.equal(fixture.sim.instance.ticket(addedTicket.number)?.record.active, 'false');

    const deletedHandle = fixture.env.client.workflow.getHandle<typeof provisioningWorkflow>(
      started.workflowId,
    );
    const removal = await waitFor(
      'the removal ticket',
      async () => (await deletedHandle.query(statusQuery)).ticket,
    );
    assert.notEqual(removal.number, addedTicket.number);
    assert.equal(ticketsOf(started.workflowId).length, 1);
    fixture.sim.instance.actOnTicket(removal.number, { action: 'close' });
    assert.equal((await deletedHandle.result()).provisioningState, 'Executed');
    assert.deepEqual(
      (await fixture.harness.ledger.list({ assignmentId: added.order.AssignedResourceTypeId })).map(
        (view) => [view.changeType, view.state],
      ),
      [
        ['Deleted', 'Executed'],
        ['Added', 'Errored'],
      ],
    );
  });
});
