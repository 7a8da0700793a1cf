/**
 * Each ticket check tells the checkTicket activity what triggered it (the activity reads a safety poll at a lower
 * priority): `schedule` for the workflow's own checks, `notice` for one a ticketChanged signal asked for. Read
 * from the inputs of the activities scheduled in the history.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import { startOrder } from '../../../src/client/provisioning';
import { statusQuery, ticketChangedSignal } from '../../../src/contract/messages';
import type { CheckTicketRequest } from '../../../src/contract/provisioningActivities';
import type { provisioningWorkflow } from '../../../src/workflows';
import { Patches } from '../../../src/workflows/provisioning/patches';
import { testOrder, useProvisioningEnv } from '../../helpers/provisioning';
import { createTimeSkippingEnv } from '../../helpers/temporal';
import { waitFor } from '../../helpers/waitFor';

const MINUTE = 60 * 1000;

describe('provisioning workflow: the trigger of each ticket check (time-skipping server, simulator)', () => {
  const fixture = useProvisioningEnv(createTimeSkippingEnv);

  test('scheduled checks pass trigger schedule, the check a ticketChanged notice asks for passes notice', async () => {
    const harness = await fixture.startWorker('check-triggers', {
      Polling: { FirstCheckAfter: '1m', MaxInterval: '1d', BackoffCoefficient: 2, Jitter: 0 },
    });
    const started = await startOrder(fixture.env.client, testOrder(), { taskQueue: harness.taskQueue });
    const handle = fixture.env.client.workflow.getHandle<typeof provisioningWorkflow>(started.workflowId);
    const ticket = await waitFor('the ticket', async () => (await handle.query(statusQuery)).ticket);

    // Ten minutes of checks on the schedule (every 1, 2, 4... minutes), the ticket staying open.
    await fixture.env.sleep(10 * MINUTE);
    const scheduledChecks = (await handle.query(statusQuery)).checks;
    assert.ok(scheduledChecks >= 2, `the schedule made checks (${scheduledChecks})`);

    fixture.sim.instance.actOnTicket(ticket.number, { action: 'close' });
    await handle.signal(ticketChangedSignal, { source: 'push' });
    const result = await handle.result();
    assert.equal(result.provisioningState, 'Executed');
    assert.equal(result.checks, scheduledChecks + 1, 'the notice, not the schedule, found the ticket closed');

    const events = (await handle.fetchHistory()).events ?? [];
    const triggers = events
      .map((event) => event.activityTaskScheduledEventAttributes)
      .filter((scheduled) => scheduled?.activityType?.name === 'checkTicket')
      .map((scheduled) => {
        const input = defaultPayloadConverter.fromPayload<CheckTicketRequest>(
          scheduled?.input?.payloads?.[0] ?? {},
        );
        assert.equal(input.ticket.number, ticket.number);
        return input.trigger;
      });
    assert.deepEqual(triggers, [...Array<string>(scheduledChecks).fill('schedule'), 'notice']);

    const markers = events.flatMap((event) => {
      const data = event.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0];
      return data === undefined ? [] : [defaultPayloadConverter.fromPayload<{ id: string }>(data).id];
    });
    assert.ok(markers.includes(Patches.checkTriggers), `the ${Patches.checkTriggers} marker is recorded`);
  });
});
