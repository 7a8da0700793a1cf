import assert from 'node:assert/strict';
import { afterEach, before, describe, test } from 'node:test';
import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { orderWorkflowId, startOrder } from '../../../src/client/provisioning';
import { InvalidOrderError, type ProvisioningInput } from '../../../src/contract/order';
import { TicketNumber as TicketNumberKey } from '../../../src/contract/searchAttributes';
import type { TicketSummary } from '../../../src/simulator/instance';
import type { CloseOutcome, TicketAction } from '../../../src/simulator/ticketActions';
import type { provisioningWorkflow } from '../../../src/workflows';
import { PROVISIONING_WORKFLOW_TYPE } from '../../../src/contract/names';
import { cancelUpdate, statusQuery, ticketChangedSignal } from '../../../src/contract/messages';
import {
  type ProvisioningHarness,
  RESOURCE_TYPES,
  testOrder,
  useProvisioningEnv,
} from '../../helpers/provisioning';
import { createTimeSkippingEnv } from '../../helpers/temporal';
import { waitFor } from '../../helpers/waitFor';

const DAY = 24 * 60 * 60 * 1000;

describe('provisioning workflow (time-skipping server, simulator over HTTP, SQLite ledger)', () => {
  const fixture = useProvisioningEnv(createTimeSkippingEnv);
  const startWorker = (name: string, overrides: Record<string, unknown> = {}) =>
    fixture.startWorker(`provisioning-${name}`, overrides);

  let main: ProvisioningHarness;
  before(async () => {
    main = await startWorker('main');
  });

  const startedInTest: string[] = [];
  afterEach(async () => {
    // A workflow left running would keep polling through every later test's skipped days.
    for (const workflowId of startedInTest.splice(0)) {
      await fixture.env.client.workflow
        .getHandle(workflowId)
        .terminate('test finished')
        .catch(() => undefined);
    }
  });

  async function start(input: ProvisioningInput, harness = main) {
    const started = await startOrder(fixture.env.client, input, { taskQueue: harness.taskQueue });
    startedInTest.push(started.workflowId);
    return fixture.env.client.workflow.getHandle<typeof provisioningWorkflow>(started.workflowId);
  }

  /** Waits (in real time, so the server's clock does not jump) until the order has its ticket. */
  async function ticketOf(handle: WorkflowHandle<typeof provisioningWorkflow>): Promise<TicketSummary> {
    const ticket = await waitFor(
      'the ticket to be opened',
      async () => (await handle.query(statusQuery)).ticket,
    );
    const summary = ticketsWithCorrelation(handle.workflowId);
    assert.equal(summary.length, 1, 'exactly one ticket carries the order id');
    assert.equal(summary[0]?.number, ticket.number);
    return summary[0];
  }

  function ticketsWithCorrelation(correlationId: string): TicketSummary[] {
    return fixture.sim.instance
      .tickets(['incident', 'sc_request'], 'all')
      .filter((ticket) => ticket.correlation_id === correlationId);
  }

  function act(
    number: string,
    action: TicketAction,
    options: { outcome?: CloseOutcome; notes?: string } = {},
  ) {
    fixture.sim.instance.actOnTicket(number, { action, ...options });
  }

  function journalOf(number: string): string[] {
    return (fixture.sim.instance.ticket(number)?.journal ?? []).map((entry) => entry.value);
  }

  test('a ticket closed after three weeks: Executed, with the close details kept', async () => {
    const input = testOrder();
    const handle = await start(input);
    const ticket = await ticketOf(handle);
    assert.equal(ticket.table, 'incident');
    assert.match(ticket.short_description, /^Added App_Incident for jdoe$/);

    const waiting = await handle.query(statusQuery);
    assert.equal(waiting.phase, 'waiting');
    assert.equal(waiting.provisioningState, 'Transmitted');
    assert.ok(waiting.nextCheckAt !== undefined);

    await fixture.env.sleep(21 * DAY);
    const midway = await handle.query(statusQuery);
    assert.ok(midway.checks > 10, `checks were made while the ticket stayed open (${midway.checks})`);
    assert.equal(midway.result, undefined);

    act(ticket.number, 'close', { notes: 'Access granted in the app' });
    const result = await handle.result();
    assert.equal(result.provisioningState, 'Executed');
    assert.equal(result.resolution, 'ticket-closed');
    assert.equal(result.ticket?.number, ticket.number);
    assert.equal(result.closeNotes, 'Access granted in the app');
    assert.equal(result.closeCode, 'Solved (Permanently)');
    assert.ok(result.closedBy !== undefined && result.closedAt !== undefined);

    const history = await main.ledger.history(handle.workflowId);
    assert.deepEqual(
      history.map((transition) => transition.state),
      ['Transmitted', 'Executed'],
    );
    const [view] = await main.ledger.list({ assignmentId: input.order.AssignedResourceTypeId });
    assert.equal(view?.state, 'Executed');
    assert.equal(view?.ticket?.number, ticket.number);
    assert.equal(view?.detail?.closeNotes, 'Access granted in the app');

    const description = await handle.describe();
    assert.equal(description.typedSearchAttributes.get(TicketNumberKey), ticket.number);
  });

  test('a ticket canceled in ServiceNow gives Errored', async () => {
    const handle = await start(testOrder());
    const ticket = await ticketOf(handle);
    act(ticket.number, 'cancel', { notes: 'Not approved by the app owner' });
    const result = await handle.result();
    assert.equal(result.provisioningState, 'Errored');
    assert.equal(result.resolution, 'ticket-canceled');
    assert.equal(result.ticket?.stateLabel, 'Canceled');
  });

  const terminalStates: {
    name: string;
    resourceType: string;
    action: TicketAction;
    outcome?: CloseOutcome;
    expected: string;
  }[] = [
    { name: 'incident closed', resourceType: RESOURCE_TYPES.incident, action: 'close', expected: 'Executed' },
    {
      name: 'incident canceled',
      resourceType: RESOURCE_TYPES.incident,
      action: 'cancel',
      expected: 'Errored',
    },
    {
      name: 'request closed complete',
      resourceType: RESOURCE_TYPES.catalog,
      action: 'close',
      outcome: 'complete',
      expected: 'Executed',
    },
    {
      name: 'request closed incomplete',
      resourceType: RESOURCE_TYPES.catalog,
      action: 'close',
      outcome: 'incomplete',
      expected: 'Errored',
    },
    {
      name: 'request closed skipped',
      resourceType: RESOURCE_TYPES.catalog,
      action: 'close',
      outcome: 'skipped',
      expected: 'Errored',
    },
    {
      name: 'request rejected',
      resourceType: RESOURCE_TYPES.catalog,
      action: 'close',
      outcome: 'rejected',
      expected: 'Errored',
    },
    { name: 'request canceled', resourceType: RESOURCE_TYPES.catalog, action: 'cancel', expected: 'Errored' },
    {
      name: 'unsynchronised resource type closed',
      resourceType: RESOURCE_TYPES.unsynchronised,
      action: 'close',
      expected: 'Verified',
    },
  ];
  for (const { name, resourceType, action, outcome, expected } of terminalStates) {
    test(`terminal state: ${name} -> ${expected}`, async () => {
      const handle = await start(testOrder(resourceType));
      const ticket = await ticketOf(handle);
      act(ticket.number, action, { outcome });
      const result = await handle.result();
      assert.equal(result.provisioningState, expected);
      const history = await main.ledger.history(handle.workflowId);
      assert.equal(history.at(-1)?.state, expected);
    });
  }

  test('a resolved incident is still waited on until it is closed', async () => {
    const handle = await start(testOrder());
    const ticket = await ticketOf(handle);
    act(ticket.number, 'resolve');
    await fixture.env.sleep(3 * DAY);
    const status = await handle.query(statusQuery);
    assert.equal(status.result, undefined);
    assert.equal(status.ticketState, 'Resolved');
    act(ticket.number, 'close');
    assert.equal((await handle.result()).provisioningState, 'Executed');
  });

  test('revoked before fulfilment: the ticket is canceled with a note, the assignment Errored', async () => {
    const handle = await start(testOrder());
    const ticket = await ticketOf(handle);
    const result = await handle.executeUpdate(cancelUpdate, {
      args: [{ reason: 'access request withdrawn', requestedBy: 'jsmith' }],
    });
    assert.equal(result.provisioningState, 'Errored');
    assert.equal(result.resolution, 'revoked');
    assert.match(result.reason ?? '', /revoked by jsmith: access request withdrawn/);
    const after = fixture.sim.instance.ticket(ticket.number);
    assert.equal(after?.record.state, '8');
    assert.ok(journalOf(ticket.number).some((note) => /access request withdrawn/.test(note)));
    assert.equal((await handle.result()).resolution, 'revoked');
    const history = await main.ledger.history(handle.workflowId);
    assert.equal(history.at(-1)?.state, 'Errored');
    assert.match(history.at(-1)?.detail?.reason ?? '', /withdrawn/);

    // A closed workflow takes no update at all: the server answers before any validator runs.
    await assert.rejects(handle.executeUpdate(cancelUpdate, { args: [{ reason: 'again' }] }));
  });

  test('a cancel without a reason is refused and changes nothing', async () => {
    const handle = await start(testOrder());
    const ticket = await ticketOf(handle);
    await assert.rejects(
      handle.executeUpdate(cancelUpdate, { args: [{ reason: '  ' }] }),
      (error: unknown) => {
        assert.ok(error instanceof WorkflowUpdateFailedError);
        assert.match(String(error.cause?.message), /^reason: must be a non-empty string/);
        return true;
      },
    );
    assert.equal((await handle.query(statusQuery)).phase, 'waiting');
    act(ticket.number, 'close');
    assert.equal((await handle.result()).provisioningState, 'Executed');
  });

  test('a ticket closed before the revocation arrives keeps its outcome', async () => {
    const handle = await start(testOrder());
    const ticket = await ticketOf(handle);
    act(ticket.number, 'close');
    const result = await handle.executeUpdate(cancelUpdate, { args: [{ reason: 'too late' }] });
    assert.equal(result.provisioningState, 'Executed');
    assert.equal(result.resolution, 'ticket-closed');
  });

  test('canceling the workflow (Web UI) cancels the ticket and records the assignment', async () => {
    const handle = await start(testOrder());
    const ticket = await ticketOf(handle);
    await handle.cancel();
    await assert.rejects(handle.result(), (error: unknown) => {
      assert.ok(error instanceof WorkflowFailedError);
      assert.ok(error.cause instanceof CancelledFailure);
      return true;
    });
    assert.equal(fixture.sim.instance.ticket(ticket.number)?.record.state, '8');
    assert.ok(journalOf(ticket.number).some((note) => /canceled in Temporal/.test(note)));
    const history = await main.ledger.history(handle.workflowId);
    assert.equal(history.at(-1)?.state, 'Errored');
  });

  test('the same order started twice attaches to the first run and opens one ticket', async () => {
    const input = testOrder();
    const first = await startOrder(fixture.env.client, input, { taskQueue: main.taskQueue });
    const second = await startOrder(fixture.env.client, structuredClone(input), {
      taskQueue: main.taskQueue,
    });
    assert.equal(first.started, true);
    assert.equal(second.started, false);
    assert.equal(second.workflowId, first.workflowId);
    const handle = fixture.env.client.workflow.getHandle<typeof provisioningWorkflow>(first.workflowId);
    const ticket = await ticketOf(handle);
    act(ticket.number, 'close');
    await handle.result();
    const third = await startOrder(fixture.env.client, input, { taskQueue: main.taskQueue });
    assert.equal(third.started, false, 'a completed order is not started again');
    assert.equal(ticketsWithCorrelation(first.workflowId).length, 1);
  });

  test('a ticketChanged signal triggers a check at once', async () => {
    const harness = await startWorker('signal', { Polling: { FirstCheckAfter: '1d', MaxInterval: '1d' } });
    const handle = await start(testOrder(), harness);
    const ticket = await ticketOf(handle);
    // The ticket is known before Transmitted is recorded, and a notice only counts once the order waits.
    await waitFor('the order to wait', async () =>
      (await handle.query(statusQuery)).phase === 'waiting' ? true : undefined,
    );
    act(ticket.number, 'close');
    await handle.signal(ticketChangedSignal, { source: 'test' });
    // Queries do not advance the time-skipping clock: only the signal can make the workflow look before a day.
    const status = await waitFor('the order to end', async () => {
      const current = await handle.query(statusQuery);
      return current.result === undefined ? undefined : current;
    });
    assert.equal(status.result?.provisioningState, 'Executed');
    assert.equal(status.checks, 1);
  });

  test('reminders are added as work notes while the ticket stays open', async () => {
    const harness = await startWorker('reminders', { Reminders: { FirstAfter: '3d', Every: '2d' } });
    const handle = await start(testOrder(), harness);
    const ticket = await ticketOf(handle);
    await fixture.env.sleep(8 * DAY);
    const reminders = journalOf(ticket.number).filter((note) => note.startsWith('Reminder:'));
    assert.equal(reminders.length, 3, `reminders after 3, 5 and 7 days (got ${reminders.length})`);
    assert.equal((await handle.query(statusQuery)).remindersSent, 3);
    act(ticket.number, 'close');
    assert.equal((await handle.result()).provisioningState, 'Executed');
  });

  test('a deadline ends the order with the configured outcome and cancels the ticket', async () => {
    const harness = await startWorker('deadline', { Deadline: { After: '10d', Outcome: 'Errored' } });
    const handle = await start(testOrder(), harness);
    const ticket = await ticketOf(handle);
    const result = await handle.result();
    assert.equal(result.provisioningState, 'Errored');
    assert.equal(result.resolution, 'deadline');
    assert.match(result.reason ?? '', /10 days/);
    assert.equal(fixture.sim.instance.ticket(ticket.number)?.record.active, 'false');
  });

  test('ServiceNow answers lost after commit do not produce a second ticket', async () => {
    fixture.sim.instance.faults.update({ failAfterCommit: 1 });
    try {
      const handle = await start(testOrder());
      await waitFor('the ticket to be opened', async () => (await handle.query(statusQuery)).ticket);
      const [ticket] = ticketsWithCorrelation(handle.workflowId);
      assert.equal(ticketsWithCorrelation(handle.workflowId).length, 1);
      fixture.sim.instance.faults.update({ failAfterCommit: 0 });
      act((ticket as TicketSummary).number, 'close');
      assert.equal((await handle.result()).provisioningState, 'Executed');
    } finally {
      fixture.sim.instance.faults.update({ failAfterCommit: 0 });
    }
  });

  test('rate limits during creation are retried after Retry-After into one ticket', async () => {
    fixture.sim.instance.faults.update({ burst429: 3, retryAfterSeconds: 1 });
    try {
      const handle = await start(testOrder());
      const ticket = await waitFor(
        'the ticket to be opened',
        async () => (await handle.query(statusQuery)).ticket,
      );
      assert.equal(fixture.sim.instance.faults.faults.burst429, 0, 'every refused call was retried');
      assert.equal(ticketsWithCorrelation(handle.workflowId).length, 1);
      act(ticket.number, 'close');
      assert.equal((await handle.result()).provisioningState, 'Executed');
    } finally {
      fixture.sim.instance.faults.update({ burst429: 0 });
    }
  });
  test('a bad order is refused by the client with field-level messages', async () => {
    const input = testOrder();
    const bad = { ...input, order: { ...input.order, ChangeType: 'Renamed', Owner: undefined } };
    await assert.rejects(
      startOrder(fixture.env.client, bad, { taskQueue: main.taskQueue }),
      (error: unknown) => {
        assert.ok(error instanceof InvalidOrderError);
        assert.match(error.message, /order\.ChangeType: must be "Added", "Modified" or "Deleted"/);
        assert.match(error.message, /order\.Owner/);
        return true;
      },
    );
  });

  test('a bad order sent straight to the workflow fails at once, non-retryable', async () => {
    const input = testOrder();
    const handle = await fixture.env.client.workflow.start(PROVISIONING_WORKFLOW_TYPE, {
      taskQueue: main.taskQueue,
      workflowId: `bad-order-${orderWorkflowId(input)}`.slice(0, 100),
      args: [{ connection: input.connection, order: { ...input.order, AssignedResourceTypeId: '' } }],
    });
    await assert.rejects(handle.result(), (error: unknown) => {
      assert.ok(error instanceof WorkflowFailedError);
      assert.ok(error.cause instanceof ApplicationFailure);
      assert.equal(error.cause.type, 'InvalidOrder');
      assert.equal(error.cause.nonRetryable, true);
      assert.match(error.cause.message, /order\.AssignedResourceTypeId: must not be empty/);
      return true;
    });
  });

  test('a bad template fails the order with the resource type and template named, and no ticket', async () => {
    const harness = await startWorker('bad-template', {
      ResourceTypeMappings: {
        [RESOURCE_TYPES.incident]: {
          Connection: 'Sim',
          CallerId: fixture.sim.credentials.login,
          TitleTemplate: '{{#ifCond ChangeType "~=" "Added"}}x{{/ifCond}}',
          DescriptionTemplate: 'd',
        },
      },
    });
    const input = testOrder();
    const handle = await start(input, harness);
    await assert.rejects(handle.result(), (error: unknown) => {
      assert.ok(error instanceof WorkflowFailedError);
      const cause = error.cause?.cause ?? error.cause;
      assert.ok(cause instanceof ApplicationFailure);
      assert.equal(cause.nonRetryable, true);
      assert.match(cause.message, /App_Incident/);
      assert.match(cause.message, /TitleTemplate/);
      return true;
    });
    assert.equal(ticketsWithCorrelation(handle.workflowId).length, 0);
  });
});
