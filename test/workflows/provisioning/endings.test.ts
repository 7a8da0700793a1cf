import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { createHttpAssignmentStore } from '../../../src/assignments/httpStore';
import { openLedger, type SqliteLedger } from '../../../src/assignments/sqliteLedger';
import type { AssignmentStore, AssignmentTransition, RecordResult } from '../../../src/assignments/store';
import { startOrder } from '../../../src/client/provisioning';
import type { SettingsFile } from '../../../src/config/schema';
import { cancelUpdate, statusQuery } from '../../../src/contract/messages';
import type { TicketRef } from '../../../src/contract/provisioning';
import { createConnectorWorker } from '../../../src/platform/connectorWorker';
import type { provisioningWorkflow } from '../../../src/workflows';
import { startFakeIdentityManager, type FakeIdentityManager } from '../../helpers/fakeIdentityManager';
import { tempDir } from '../../helpers/files';
import { RESOURCE_TYPES, simulatorSettings, testOrder } from '../../helpers/provisioning';
import { useSimulator } from '../../helpers/simulator';
import { createDevServerEnv, createTimeSkippingEnv, workflowBundle } from '../../helpers/temporal';
import { waitFor } from '../../helpers/waitFor';

type Handle = WorkflowHandle<typeof provisioningWorkflow>;

/**
 * Every way an order can end tells Identity Manager, whatever fails: rejected logins and refusing stores keep the
 * order waiting (retrying, visible) instead of failing it silently, and records land in the order they were made.
 */
/** A simulator, a Temporal server, a ledger and a fake Identity Manager, with workers started and stopped at will. */
function useEndingsFixture(createEnv: () => Promise<TestWorkflowEnvironment>) {
  const simulator = useSimulator();
  const dataDir = tempDir();
  let env: TestWorkflowEnvironment;
  let ledger: SqliteLedger;
  let identityManager: FakeIdentityManager;
  const running = new Map<Worker, Promise<void>>();

  before(async () => {
    env = await createEnv();
    ledger = openLedger(`${dataDir}/endings.sqlite`);
    identityManager = await startFakeIdentityManager();
  });
  after(async () => {
    for (const worker of running.keys()) await stop(worker);
    await ledger?.close();
    await identityManager?.close();
    await env?.teardown();
  });

  function settings(password?: string, overrides: Record<string, unknown> = {}): SettingsFile {
    const base = simulatorSettings(simulator.sim, dataDir, overrides);
    if (password === undefined) return base;
    const connection = base.Connections.Sim;
    assert.ok(connection !== undefined);
    return { ...base, Connections: { Sim: { ...connection, Password: password } } };
  }

  async function startWorker(
    taskQueue: string,
    options: { settings?: SettingsFile; store?: AssignmentStore } = {},
  ): Promise<Worker> {
    const worker = await createConnectorWorker({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      settings: options.settings ?? settings(),
      assignments: options.store ?? ledger,
      workflowBundle: await workflowBundle(),
    });
    running.set(worker, worker.run());
    return worker;
  }

  async function stop(worker: Worker): Promise<void> {
    const run = running.get(worker);
    if (run === undefined) return;
    running.delete(worker);
    worker.shutdown();
    await run;
  }

  async function start(taskQueue: string): Promise<{ handle: Handle; ticket: () => Promise<TicketRef> }> {
    const started = await startOrder(env.client, testOrder(), { taskQueue });
    const handle = env.client.workflow.getHandle<typeof provisioningWorkflow>(started.workflowId);
    return {
      handle,
      // Read from ServiceNow, not queried: a query right after a worker swap waits for the old sticky queue.
      ticket: () =>
        waitFor('the ticket', () => {
          const found = simulator.sim.instance
            .tickets(['incident'], 'all')
            .find((ticket) => ticket.correlation_id === handle.workflowId);
          return found === undefined
            ? undefined
            : { table: 'incident' as const, sysId: found.sys_id, number: found.number };
        }),
    };
  }

  /** The message of the latest failure of a pending activity of `type`, once there is one. */
  function pendingFailure(handle: Handle, type: string): Promise<string> {
    return waitFor(`a failed attempt of ${type}`, async () => {
      const described = await handle.describe();
      const pending = described.raw.pendingActivities?.find(
        (activity) => activity.activityType?.name === type,
      );
      return pending?.lastFailure?.message ?? undefined;
    });
  }

  function ticketActive(ticket: TicketRef): string | undefined {
    return simulator.sim.instance.ticket(ticket.number)?.record.active;
  }

  return {
    simulator,
    get env() {
      return env;
    },
    get ledger() {
      return ledger;
    },
    get identityManager() {
      return identityManager;
    },
    settings,
    startWorker,
    stop,
    start,
    pendingFailure,
    ticketActive,
  };
}

describe('rejected logins keep orders waiting (dev server: pending activities show the failure)', () => {
  const fixture = useEndingsFixture(createDevServerEnv);
  const { simulator, settings, startWorker, stop, start, pendingFailure, ticketActive } = fixture;

  test('a rejected Basic login keeps the order waiting until an operator fixes the password', async () => {
    const taskQueue = 'endings-login';
    const wrong = await startWorker(taskQueue, { settings: settings('not-the-password') });
    const { handle, ticket } = await start(taskQueue);
    assert.match(await pendingFailure(handle, 'openTicket'), /401/);
    assert.equal((await handle.describe()).status.name, 'RUNNING', 'the order waits, it does not fail');
    assert.equal(
      simulator.sim.instance
        .tickets(['incident'], 'all')
        .filter((t) => t.correlation_id === handle.workflowId).length,
      0,
      'no ticket yet',
    );

    await stop(wrong);
    await startWorker(taskQueue);
    const opened = await ticket();
    assert.equal(ticketActive(opened), 'true');
    await handle.terminate('test finished');
  });

  test('a 401 during revocation leaves the order revoking, and the ticket is canceled once fixed', async () => {
    const taskQueue = 'endings-revoke-login';
    const first = await startWorker(taskQueue);
    const { handle, ticket } = await start(taskQueue);
    const opened = await ticket();
    // The ticket shows in ServiceNow before openTicket has finished (it looks the ticket up again): stopping the
    // worker then would leave openTicket, not the cancellation, to the worker with the wrong password.
    await waitFor('the order waiting for its ticket', async () =>
      (await handle.query(statusQuery)).phase === 'waiting' ? true : undefined,
    );
    await stop(first);
    const wrong = await startWorker(taskQueue, { settings: settings('not-the-password') });
    const revocation = handle.executeUpdate(cancelUpdate, { args: [{ reason: 'left the company' }] });
    assert.match(await pendingFailure(handle, 'cancelTicket'), /401/);
    assert.equal(ticketActive(opened), 'true', 'nothing canceled yet');

    await stop(wrong);
    await startWorker(taskQueue);
    const outcome = await revocation;
    assert.equal(outcome.resolution, 'revoked');
    assert.doesNotMatch(outcome.reason ?? '', /could not be canceled/);
    assert.equal(ticketActive(opened), 'false', 'the ticket was canceled');
    assert.equal((await fixture.ledger.list({ assignmentId: outcome.assignmentId }))[0]?.state, 'Errored');
  });
});

describe('every order ends with Identity Manager told (time-skipping server)', () => {
  const fixture = useEndingsFixture(createTimeSkippingEnv);
  const { simulator, settings, startWorker, stop, start } = fixture;

  for (const status of [404, 400, 422, 302]) {
    test(`Identity Manager answering ${status} to the final record leaves the order waiting until it takes it`, async () => {
      const taskQueue = `endings-im-${status}`;
      const store = createHttpAssignmentStore({
        urlTemplate: `${fixture.identityManager.url}/api/assignments/{assignmentId}`,
        maxAttempts: 1,
      });
      const worker = await startWorker(taskQueue, { store });
      try {
        const { handle, ticket } = await start(taskQueue);
        const opened = await ticket();
        // The ticket is in ServiceNow before Transmitted reaches Identity Manager: the refusals are for the final.
        await waitFor('Transmitted at Identity Manager', () =>
          fixture.identityManager.stateOf(handle.workflowId) === 'Transmitted' ? true : undefined,
        );
        const refusals = fixture.identityManager.requests.length;
        fixture.identityManager.failNext(3, { kind: 'status', status, body: { message: 'not now' } });
        simulator.sim.instance.actOnTicket(opened.number, { action: 'close' });
        const result = await handle.result();
        assert.equal(result.provisioningState, 'Executed');
        const calls = fixture.identityManager.requests
          .slice(refusals)
          .map((call) => (call.body as { provisioningState?: string }).provisioningState);
        assert.deepEqual(
          calls,
          ['Executed', 'Executed', 'Executed', 'Executed'],
          'three refusals, then taken',
        );
        assert.equal(fixture.identityManager.stateOf(result.orderId), 'Executed');
      } finally {
        await stop(worker);
        await store.close();
      }
    });
  }

  test('a Web UI cancel while Transmitted is being recorded never lets it land after the final state', async () => {
    const taskQueue = 'endings-late-transmitted';
    const landed: string[] = [];
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    let transmittedStarted: () => void = () => undefined;
    const transmitting = new Promise<void>((resolve) => (transmittedStarted = resolve));
    // The ledger behind a slow link: Transmitted takes until the test releases it.
    const slowStore: AssignmentStore = {
      async record(transition: AssignmentTransition): Promise<RecordResult> {
        if (transition.state === 'Transmitted') {
          transmittedStarted();
          await released;
        }
        const result = await fixture.ledger.record(transition);
        landed.push(transition.state);
        return result;
      },
      close: async () => undefined,
    };
    await startWorker(taskQueue, { store: slowStore });
    const { handle } = await start(taskQueue);
    await transmitting;
    await handle.cancel();
    await waitFor('the cancellation to be requested', async () =>
      (await handle.fetchHistory()).events?.some(
        (event) => event.workflowExecutionCancelRequestedEventAttributes != null,
      ) === true
        ? true
        : undefined,
    );
    // Time for a cleanup that does not wait for Transmitted to record the final state first (bounded).
    for (let tries = 0; tries < 30 && !landed.includes('Errored'); tries += 1) await sleep(100);
    release();
    await assert.rejects(handle.result(), (error: unknown) => error instanceof WorkflowFailedError);
    assert.deepEqual(landed, ['Transmitted', 'Errored'], 'records land in the order they were made');
    const [view] = await fixture.ledger.list({
      assignmentId: (await handle.query(statusQuery)).assignmentId,
    });
    assert.equal(view?.state, 'Errored');
  });

  test('a failure after the order was accepted (a bad template) records Errored with its reason', async () => {
    const taskQueue = 'endings-bad-template';
    await startWorker(taskQueue, {
      settings: settings(undefined, {
        ResourceTypeMappings: {
          [RESOURCE_TYPES.incident]: {
            Connection: 'Sim',
            CallerId: simulator.sim.credentials.login,
            TitleTemplate: '{{#ifCond ChangeType "~=" "Added"}}x{{/ifCond}}',
            DescriptionTemplate: 'd',
          },
        },
      }),
    });
    const { handle } = await start(taskQueue);
    await assert.rejects(handle.result(), (error: unknown) => error instanceof WorkflowFailedError);
    const history = await fixture.ledger.history(handle.workflowId);
    assert.deepEqual(
      history.map((transition) => transition.state),
      ['Errored'],
    );
    assert.match(history[0]?.detail?.reason ?? '', /could not be carried out: .*TitleTemplate/);
  });
});
