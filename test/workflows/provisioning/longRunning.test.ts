import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fetchRunHistories } from '../../../src/client/histories';
import { startOrder } from '../../../src/client/provisioning';
import type { provisioningWorkflow } from '../../../src/workflows';
import { statusQuery } from '../../../src/contract/messages';
import { testOrder, useProvisioningEnv } from '../../helpers/provisioning';
import { createTimeSkippingEnv } from '../../helpers/temporal';
import { waitFor } from '../../helpers/waitFor';

const DAY = 24 * 60 * 60 * 1000;

// Alone in its own server: a year of skipped time must not drag other tests' workflows through it.
describe('a provisioning order open for a year (time-skipping server)', () => {
  const fixture = useProvisioningEnv(createTimeSkippingEnv);

  test('continue-as-new carries the order across runs, each under 1,000 events', async () => {
    const { env } = fixture;
    const harness = await fixture.startWorker('provisioning-year', {
      Polling: { FirstCheckAfter: '1h', MaxInterval: '1d' },
    });
    const started = await startOrder(env.client, testOrder(), { taskQueue: harness.taskQueue });
    const handle = env.client.workflow.getHandle<typeof provisioningWorkflow>(started.workflowId);
    const ticket = await waitFor('the ticket', async () => (await handle.query(statusQuery)).ticket);

    await env.sleep(365 * DAY);
    const status = await handle.query(statusQuery);
    assert.ok(status.run > 1, `the workflow continued as new (now in run ${status.run})`);
    assert.ok(status.checks >= 360, `daily checks carried across runs (${status.checks})`);
    assert.equal(status.ticket?.number, ticket.number, 'the ticket is carried, not opened again');

    fixture.sim.instance.actOnTicket(ticket.number, { action: 'close' });
    const result = await handle.result();
    assert.equal(result.provisioningState, 'Executed');
    assert.equal(result.checks, status.checks + 1);

    const runs = await fetchRunHistories(env.client, handle.workflowId);
    assert.equal(runs.length, status.run);
    for (const run of runs) {
      const events = run.history.events?.length ?? 0;
      assert.ok(events < 1_000, `run ${run.runId} has ${events} events`);
    }
    const tickets = fixture.sim.instance
      .tickets(['incident'], 'all')
      .filter((candidate) => candidate.correlation_id === handle.workflowId);
    assert.equal(tickets.length, 1);
    const ledger = await harness.ledger.history(handle.workflowId);
    assert.deepEqual(
      ledger.map((transition) => transition.state),
      ['Transmitted', 'Executed'],
    );
  });
});
