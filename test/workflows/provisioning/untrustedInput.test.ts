import assert from 'node:assert/strict';
import { afterEach, before, describe, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { startOrder } from '../../../src/client/provisioning';
import { MAX_CONNECTION_LENGTH, MAX_ID_LENGTH, MAX_NOTES_LENGTH } from '../../../src/contract/limits';
import { cancelUpdate, statusQuery } from '../../../src/contract/messages';
import { PROVISIONING_WORKFLOW_TYPE } from '../../../src/contract/names';
import {
  InvalidOrderError,
  parseProvisioningInput,
  type ProvisioningInput,
} from '../../../src/contract/order';
import type { CarriedState, TicketRef } from '../../../src/contract/provisioning';
import type { provisioningWorkflow } from '../../../src/workflows';
import {
  type ProvisioningHarness,
  RESOURCE_TYPES,
  testOrder,
  useProvisioningEnv,
} from '../../helpers/provisioning';
import { simulatorCalls } from '../../helpers/simulator';
import { createDevServerEnv, createTimeSkippingEnv } from '../../helpers/temporal';
import { waitFor } from '../../helpers/waitFor';

const LONG_RESOURCE_TYPE = `App_${'x'.repeat(MAX_ID_LENGTH - 4)}`;

/** A carried state as a first-release run handed it on, naming `ticket`. */
function carriedNaming(ticket: TicketRef, extra: Partial<CarriedState> = {}): CarriedState {
  return {
    policy: {
      table: 'incident',
      synchronisable: true,
      outcomes: { '7': 'Executed', '8': 'Errored' },
      polling: { firstCheckAfterMs: 60_000, maxIntervalMs: 3_600_000, backoffCoefficient: 2, jitter: 0 },
      reminders: {},
      deadline: { outcome: 'Errored', cancelTicket: true },
    },
    ticket,
    openedAt: 0,
    checks: 0,
    failedChecks: 0,
    pollStep: 0,
    nextCheckAt: 0,
    remindersSent: 0,
    run: 1,
    ...extra,
  };
}

/** Workflow inputs, signals and updates come from clients that may be wrong or hostile. */
describe('provisioning inputs from untrusted clients (time-skipping server)', () => {
  const fixture = useProvisioningEnv(createTimeSkippingEnv);
  let main: ProvisioningHarness;
  before(async () => {
    main = await fixture.startWorker('untrusted-input', {
      ResourceTypeMappings: {
        [RESOURCE_TYPES.incident]: {
          Connection: 'Sim',
          CallerId: fixture.sim.credentials.login,
          TitleTemplate: '{{ChangeType}} {{ResourceType.Identifier}} for {{Owner.Identifier}}',
          DescriptionTemplate: 'Please grant {{ResourceType.Identifier}}.',
          Table: 'incident',
        },
        [LONG_RESOURCE_TYPE]: {
          Connection: 'Sim',
          CallerId: fixture.sim.credentials.login,
          TitleTemplate: 'Grant a long-named resource type',
          DescriptionTemplate: 'Please grant it.',
          Table: 'incident',
        },
      },
    });
  });

  const started: string[] = [];
  afterEach(async () => {
    for (const workflowId of started.splice(0)) {
      await fixture.env.client.workflow
        .getHandle(workflowId)
        .terminate('test finished')
        .catch(() => undefined);
    }
  });

  async function start(input: ProvisioningInput) {
    const order = await startOrder(fixture.env.client, input, { taskQueue: main.taskQueue });
    started.push(order.workflowId);
    const handle = fixture.env.client.workflow.getHandle<typeof provisioningWorkflow>(order.workflowId);
    const ticket = await waitFor('the ticket', async () => (await handle.query(statusQuery)).ticket);
    return { handle, ticket };
  }

  /** Starts the workflow the way any Temporal client can, with arguments of its own choosing. */
  async function startRaw(workflowId: string, args: unknown[], options: { cronSchedule?: string } = {}) {
    started.push(workflowId);
    return fixture.env.client.workflow.start(PROVISIONING_WORKFLOW_TYPE, {
      taskQueue: main.taskQueue,
      workflowId,
      args,
      ...options,
    });
  }

  function ticketRecord(number: string) {
    const ticket = fixture.sim.instance.ticket(number);
    assert.ok(ticket !== undefined, `ticket ${number} exists`);
    return ticket.record;
  }

  async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
    const error = await promise.then(
      () => assert.fail('the workflow was expected to fail'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof WorkflowFailedError, String(error));
    assert.ok(error.cause instanceof ApplicationFailure, String(error.cause));
    return error.cause;
  }

  test('a carried state handed to a first run is refused: no ticket of another order is touched', async () => {
    const victim = await start(testOrder());
    const intruder = `intruder-${process.pid}-1`;
    // An invalid order with a carried state naming the victim's ticket, then a cancel naming it too.
    const handle = await startRaw(intruder, [
      { connection: 'Sim', order: { ChangeType: 'Bogus' } },
      carriedNaming(victim.ticket),
    ]);
    const failure = await failureOf(handle.result());
    assert.equal(failure.type, 'InvalidInput');
    assert.equal(failure.nonRetryable, true);
    assert.match(
      failure.message,
      /only accepted from a continued run of the same order: this is a first run/,
    );
    await assert.rejects(
      handle.executeUpdate(cancelUpdate, { args: [{ reason: 'take it away' }] }),
      'the order has ended: no cancel can reach a ticket through it',
    );
    assert.equal(ticketRecord(victim.ticket.number).active, 'true', "the victim's ticket is still open");
    assert.deepEqual(await main.ledger.history(intruder), [], 'nothing recorded for the intruder');

    // A valid order does not make a carried state acceptable either.
    const second = await startRaw(`intruder-${process.pid}-2`, [testOrder(), carriedNaming(victim.ticket)]);
    assert.equal((await failureOf(second.result())).type, 'InvalidInput');
    assert.equal((await victim.handle.query(statusQuery)).phase, 'waiting');
  });

  test('a ticket whose correlation id now names another order is neither canceled nor judged', async () => {
    const { handle, ticket } = await start(testOrder());
    const { call } = simulatorCalls(() => fixture.sim);
    const changed = await call(`/api/now/table/incident/${ticket.sysId}`, {
      method: 'PATCH',
      body: { correlation_id: 'someone-else' },
    });
    assert.equal(changed.status, 200);
    const outcome = await handle.executeUpdate(cancelUpdate, { args: [{ reason: 'no longer needed' }] });
    assert.equal(outcome.provisioningState, 'Errored');
    assert.equal(outcome.resolution, 'revoked');
    assert.equal(ticketRecord(ticket.number).active, 'true', 'the ticket of another order stays open');

    const other = await start(testOrder());
    await call(`/api/now/table/incident/${other.ticket.sysId}`, {
      method: 'PATCH',
      body: { correlation_id: 'someone-else-again' },
    });
    fixture.sim.instance.actOnTicket(other.ticket.number, { action: 'close' });
    const result = await other.handle.result();
    assert.equal(result.resolution, 'ticket-missing', 'a closed ticket of another order gives no outcome');
    assert.equal(result.provisioningState, 'Errored');
  });

  test('identifiers over the limits are refused on arrival, by the client and by the workflow', async () => {
    const tooLong = 'x'.repeat(5_000);
    const order = { ...testOrder().order, ResourceType: { Identifier: tooLong } };
    assert.throws(
      () => parseProvisioningInput({ connection: 'Sim', order }),
      (error: unknown) =>
        error instanceof InvalidOrderError &&
        error.problems.some((problem) =>
          problem.startsWith(`order.ResourceType.Identifier: must be at most ${MAX_ID_LENGTH} characters`),
        ),
    );
    const handle = await startRaw(`too-long-${process.pid}`, [{ connection: 'Sim', order }]);
    const failure = await failureOf(handle.result());
    assert.equal(failure.type, 'InvalidOrder');
    assert.match(failure.message, /order\.ResourceType\.Identifier: must be at most 200 characters/);

    assert.throws(
      () =>
        parseProvisioningInput({
          connection: `C${'c'.repeat(MAX_CONNECTION_LENGTH)}`,
          order: testOrder().order,
        }),
      /connection: must be at most 64 characters/,
    );
    const bulky = { ...testOrder().order, Changes: { Blob: 'y'.repeat(300 * 1024) } };
    assert.throws(() => parseProvisioningInput({ connection: 'Sim', order: bulky }), /bytes of JSON/);
  });

  test('an assignment or workflow id of "." or ".." is refused on arrival, by the client and by the workflow', async () => {
    for (const id of ['.', '..']) {
      const order = { ...testOrder().order, AssignedResourceTypeId: id };
      assert.throws(
        () => parseProvisioningInput({ connection: 'Sim', order }),
        /order\.AssignedResourceTypeId: must not be "\." or "\.\."/,
      );
      const handle = await startRaw(`dot-id-${process.pid}-${id.length}`, [{ connection: 'Sim', order }]);
      const failure = await failureOf(handle.result());
      assert.equal(failure.type, 'InvalidOrder');
      assert.equal(failure.nonRetryable, true);
      assert.match(failure.message, /order\.AssignedResourceTypeId: must not be "\." or "\.\."/);
      assert.deepEqual(await main.ledger.history(handle.workflowId), [], 'nothing recorded');
    }
    const dots = await startRaw('..', [testOrder()]);
    const failure = await failureOf(dots.result());
    assert.equal(failure.type, 'InvalidOrder');
    assert.match(failure.message, /workflow id: must not be "\." or "\.\."/);
  });

  test('an identifier at the limit goes all the way: ticket, search attribute and store', async () => {
    const { handle, ticket } = await start(testOrder(LONG_RESOURCE_TYPE));
    fixture.sim.instance.actOnTicket(ticket.number, { action: 'close', notes: 'n'.repeat(10_000) });
    const result = await handle.result();
    assert.equal(result.provisioningState, 'Executed');
    assert.equal(result.resourceType, LONG_RESOURCE_TYPE);
    assert.ok((result.closeNotes?.length ?? 0) <= MAX_NOTES_LENGTH, 'close notes kept in history are capped');
    const history = await main.ledger.history(handle.workflowId);
    assert.deepEqual(
      history.map((transition) => transition.state),
      ['Transmitted', 'Executed'],
    );
  });
});

describe('carried state on a cron schedule (dev server)', () => {
  const fixture = useProvisioningEnv(createDevServerEnv);

  test('a cron schedule does not make a carried state acceptable on the runs after the first', async () => {
    const { taskQueue } = await fixture.startWorker('untrusted-cron');
    const { client } = fixture.env;
    const victim = await startOrder(client, testOrder(), { taskQueue });
    const victimHandle = client.workflow.getHandle<typeof provisioningWorkflow>(victim.workflowId);
    const ticket = await waitFor('the ticket', async () => (await victimHandle.query(statusQuery)).ticket);
    const handle = await client.workflow.start(PROVISIONING_WORKFLOW_TYPE, {
      taskQueue,
      workflowId: `intruder-${process.pid}-cron`,
      args: [testOrder(), carriedNaming(ticket)],
      cronSchedule: '@every 2s',
    });
    try {
      // A run started by the schedule continues the one before it; find one that has ended.
      const failure = await waitFor('a cron run to fail', async () => {
        const current = await handle.fetchHistory();
        const previous =
          current.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId ?? '';
        if (previous === '') return undefined;
        const history = await client.workflow.getHandle(handle.workflowId, previous).fetchHistory();
        const continued =
          history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
        if ((continued ?? '') === '') return undefined;
        return (
          history.events?.find((event) => event.workflowExecutionFailedEventAttributes != null)
            ?.workflowExecutionFailedEventAttributes?.failure?.message ?? undefined
        );
      });
      assert.match(failure, /orders never run on a cron schedule/);
      assert.equal(fixture.sim.instance.ticket(ticket.number)?.record.active, 'true');
    } finally {
      await handle.terminate('test finished').catch(() => undefined);
      await victimHandle.terminate('test finished').catch(() => undefined);
    }
  });
});
