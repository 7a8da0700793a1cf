/**
 * The ticket sweep workflow on a real Temporal dev server against the simulator over HTTP: first with the sweep
 * activities alone and a recording `notifyOrder` (what every order is told, and by which attempt), then end to end
 * with the connector's worker, where an order whose own poll waits for a day ends within seconds of its ticket's
 * closing because the sweep told it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Context } from '@temporalio/activity';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createSweepActivities, type NotifyOrder } from '../../src/activities/sweep';
import { fetchRunHistories } from '../../src/client/histories';
import { startOrder } from '../../src/client/provisioning';
import { ensureTicketSweeps } from '../../src/client/sweeps';
import { statusQuery } from '../../src/contract/messages';
import { TICKET_SWEEP_WORKFLOW_TYPE, ticketSweepWorkflowId } from '../../src/contract/names';
import { sweepStatusQuery, type SweepPlan, type TicketSweepStatus } from '../../src/contract/sweep';
import { ServiceNowClient } from '../../src/servicenow/client';
import { CORRELATION_DISPLAY } from '../../src/servicenow/ticketCreation';
import type { provisioningWorkflow, ticketSweepWorkflow } from '../../src/workflows';
import { SWEEPS_PER_RUN } from '../../src/workflows/sweep/workflow';
import { CONNECTION, simulatorSettings, testOrder, useProvisioningEnv } from '../helpers/provisioning';
import { simulatorCalls, useSimulator } from '../helpers/simulator';
import { createDevServerEnv, createTimeSkippingEnv, workflowBundle } from '../helpers/temporal';
import { waitFor } from '../helpers/waitFor';

interface Told {
  readonly orderId: string;
  readonly sysModCount?: number;
  readonly attempt: number;
}

/** An id shaped like an order id of `connection` (see orderWorkflowId). */
function orderId(connection: string, name: string): string {
  const digest = Buffer.from(name).toString('hex').padEnd(12, '0').slice(0, 12);
  return `${connection}:${name}:added:${digest}`;
}

describe('ticketSweepWorkflow (dev server, sweep activities with a recording notifyOrder)', () => {
  const fixture = useSimulator();
  const taskQueue = 'sweep-workflow-test';
  const plan: SweepPlan = { tables: ['incident'], intervalMs: 300, overlapMs: 120_000, pageSize: 2 };
  const told: Told[] = [];
  /** The third notice of the first attempt of a 'Crash' sweep fails, as if Temporal were unreachable then. */
  const failsInFirstAttempt = (id: string, attempt: number) =>
    attempt === 1 &&
    id.startsWith('Crash:') &&
    told.filter((t) => t.orderId.startsWith('Crash:')).length === 3;
  let env: TestWorkflowEnvironment | undefined;
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;

  before(async () => {
    env = await createDevServerEnv({ registerSearchAttributes: false });
    const notifyOrder: NotifyOrder = (id, notice) => {
      const { attempt } = Context.current().info;
      told.push({ orderId: id, sysModCount: notice.sysModCount, attempt });
      if (failsInFirstAttempt(id, attempt)) return Promise.reject(new Error('Temporal is unavailable'));
      return Promise.resolve('signaled');
    };
    worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: createSweepActivities({
        serviceNow: () =>
          new ServiceNowClient({
            tableApiUrl: fixture.sim.tableApiUrl,
            credentials: { kind: 'basic', ...fixture.sim.credentials },
          }),
        // The crash test has a table of its own, so that its pages hold its tickets alone.
        plan: (connection) =>
          connection === 'Gone'
            ? undefined
            : connection === 'Crash'
              ? { ...plan, tables: ['sc_request'] }
              : plan,
        notifyOrder,
      }),
    });
    running = worker.run();
  });
  after(async () => {
    worker?.shutdown();
    await running;
    await env?.teardown();
  });

  const started = (): TestWorkflowEnvironment => {
    assert.ok(env !== undefined);
    return env;
  };

  const ticket = (correlationId: string, table = 'incident') =>
    fixture.create(table, {
      short_description: `Ticket of ${correlationId}`,
      correlation_id: correlationId,
      correlation_display: CORRELATION_DISPLAY,
    });

  async function startSweep(connection: string) {
    return started().client.workflow.start<typeof ticketSweepWorkflow>(TICKET_SWEEP_WORKFLOW_TYPE, {
      workflowId: ticketSweepWorkflowId(connection),
      taskQueue,
      args: [{ connection }],
    });
  }

  const toldOf = (connection: string) => told.filter((t) => t.orderId.startsWith(`${connection}:`));

  test('sweeps again and again: each ticket version is told once, and the status says where it stands', async () => {
    const ids = ['a', 'b', 'c', 'd', 'e'].map((name) => orderId('Paging', name));
    const rows = [];
    for (const id of ids) rows.push(await ticket(id));
    const handle = await startSweep('Paging');
    await waitFor('every order told', () => (toldOf('Paging').length >= ids.length ? true : undefined));
    const response = await fixture.call(`/api/now/table/incident/${rows[2]?.sys_id}`, {
      method: 'PATCH',
      body: { work_notes: 'worked on' },
    });
    assert.equal(response.status, 200);
    await waitFor('the change told', () =>
      toldOf('Paging').some((t) => t.sysModCount === 1) ? true : undefined,
    );
    // Let a few more sweeps re-read the overlap.
    const seen = (await handle.query(sweepStatusQuery)).sweeps;
    const status: TicketSweepStatus = await waitFor('three more sweeps', async () => {
      const current = await handle.query(sweepStatusQuery);
      return current.sweeps >= seen + 3 ? current : undefined;
    });
    const versions = toldOf('Paging').map((t) => `${t.orderId}#${t.sysModCount}`);
    assert.deepEqual(versions.sort(), [...ids.map((id) => `${id}#0`), `${ids[2]}#1`].sort());
    assert.deepEqual(status.plan, plan);
    assert.equal(status.connection, 'Paging');
    assert.ok(status.watermark !== undefined && status.watermark >= (rows.at(-1)?.sys_updated_on ?? ''));
    // Every later sweep re-read the five tickets (in their latest versions) and told nobody.
    assert.equal(status.lastSweep?.counts?.signaled, 0);
    assert.equal(status.lastSweep?.counts?.repeated, 5);
    await handle.terminate('test done');
    // The history replays against the workflow code (no non-determinism in the loop).
    await Worker.runReplayHistory(
      { workflowBundle: await workflowBundle() },
      await handle.fetchHistory(),
      handle.workflowId,
    );
  });

  test('an attempt that fails after a page is retried from its heartbeat: nothing is missed or read again', async () => {
    const ids = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((name) => orderId('Crash', name));
    for (const id of ids) await ticket(id, 'sc_request');
    const handle = await startSweep('Crash');
    await waitFor('every order told', () =>
      new Set(toldOf('Crash').map((t) => t.orderId)).size >= ids.length ? true : undefined,
    );
    await handle.terminate('test done');
    const byAttempt = (attempt: number) =>
      toldOf('Crash')
        .filter((t) => t.attempt === attempt)
        .map((t) => t.orderId);
    // The first attempt told the first page (page size 2), then failed on the second page's first row.
    const first = byAttempt(1);
    assert.equal(first.length, 3);
    // The retry started after the first page: the third order again (its notice failed), then the others.
    const retry = byAttempt(2);
    assert.deepEqual([...retry].sort(), ids.filter((id) => !first.slice(0, 2).includes(id)).sort());
    assert.deepEqual([...new Set([...first, ...retry])].sort(), [...ids].sort());
  });

  test('a sweep whose worker has nothing to sweep for its connection ends', async () => {
    const handle = await startSweep('Gone');
    assert.deepEqual(await handle.result(), { connection: 'Gone', sweeps: 0 });
  });

  test('an invalid connection is refused', async () => {
    const handle = await startSweep('not a connection');
    await assert.rejects(handle.result(), (error: Error) => {
      const cause = (error as Error & { cause?: Error }).cause;
      assert.match(cause?.message ?? '', /connection: must be a connection identifier/);
      return true;
    });
  });
});

describe('end to end: the sweep ends an order whose own poll waits a day (connector worker, push off)', () => {
  const fixture = useProvisioningEnv(() => createDevServerEnv());
  const taskQueue = 'sweep-e2e';
  const overrides = {
    Polling: { FirstCheckAfter: '1h', MaxInterval: '24h' },
    Sweep: { Interval: '1s' },
  };

  /** The notices an order's history holds, decoded. */
  async function notices(workflowId: string): Promise<unknown[]> {
    const history = await fixture.env.client.workflow.getHandle(workflowId).fetchHistory();
    return (history.events ?? []).flatMap((event) => {
      const signaled = event.workflowExecutionSignaledEventAttributes;
      if (signaled?.signalName !== 'ticketChanged') return [];
      return (signaled.input?.payloads ?? []).map((payload): unknown =>
        JSON.parse(Buffer.from(payload.data ?? new Uint8Array()).toString('utf8')),
      );
    });
  }

  test('a closed ticket ends its order within seconds, told by the sweep', { timeout: 120_000 }, async () => {
    const harness = await fixture.startWorker(taskQueue, overrides);
    const { client } = fixture.env;
    const expected = { enabled: true, running: [{ connection: 'Sim', workflowId: 'ticket-sweep:Sim' }] };
    assert.deepEqual(await ensureTicketSweeps(client, harness.settings, taskQueue), expected);
    const sweep = client.workflow.getHandle(ticketSweepWorkflowId('Sim'));
    const { runId } = await sweep.describe();
    // Every worker process calls it at start: the running sweep is kept.
    assert.deepEqual(await ensureTicketSweeps(client, harness.settings, taskQueue), expected);
    assert.equal((await sweep.describe()).runId, runId);

    const order = await startOrder(client, testOrder(), { taskQueue });
    const handle = client.workflow.getHandle<typeof provisioningWorkflow>(order.workflowId);
    const number = await waitFor(
      'the ticket opened',
      async () => (await handle.query(statusQuery)).ticket?.number,
    );
    const admin = simulatorCalls(() => fixture.sim).admin;
    const closed = await admin(`/tickets/${number}/close`, { method: 'POST', body: {} });
    assert.equal(closed.status, 200, await closed.clone().text());

    const result = await handle.result();
    assert.equal(result.provisioningState, 'Executed');
    assert.ok(
      (await notices(order.workflowId)).some((notice) => (notice as { source?: string }).source === 'sweep'),
    );
    const status = await sweep.query(sweepStatusQuery);
    assert.deepEqual(status.plan?.tables, ['incident', 'sc_request']);
    assert.ok(status.watermark !== undefined);

    // With sweeping off, nothing is started or stopped; the running sweep is reported.
    const off = simulatorSettings(fixture.sim, fixture.dataDir, {
      ...overrides,
      Sweep: { Enabled: 'false' },
    });
    assert.deepEqual(await ensureTicketSweeps(client, off, taskQueue), { ...expected, enabled: false });
  });
});

// Alone in its own server: an hour of skipped time must not drag other tests' workflows through it.
describe('the sweep continues as new, carrying its state (time-skipping server)', () => {
  const fixture = useProvisioningEnv(createTimeSkippingEnv);

  test(`after ${SWEEPS_PER_RUN} sweeps a new run goes on with the watermark and the versions told`, async () => {
    const { env } = fixture;
    const harness = await fixture.startWorker('sweep-runs', { Sweep: { Interval: '1m' } });
    const id = orderId(CONNECTION, 'carried');
    const created = await simulatorCalls(() => fixture.sim).create('incident', {
      short_description: 'ticket of an order that has ended',
      correlation_id: id,
      correlation_display: CORRELATION_DISPLAY,
    });
    await ensureTicketSweeps(env.client, harness.settings, harness.taskQueue);
    const handle = env.client.workflow.getHandle(ticketSweepWorkflowId(CONNECTION));
    const { runId } = await handle.describe();

    await env.sleep((SWEEPS_PER_RUN + 5) * 60_000);
    const status = await handle.query(sweepStatusQuery);
    assert.notEqual((await handle.describe()).runId, runId);
    assert.ok(status.sweeps > SWEEPS_PER_RUN, `sweeps are counted across runs (${status.sweeps})`);
    assert.equal(status.watermark, created.sys_updated_on);
    // The version told in the first run is remembered in the next: not told again.
    assert.deepEqual(status.lastSweep?.counts, { calls: 3, rows: 1, signaled: 0, ignored: 0, repeated: 1 });
    const runs = await fetchRunHistories(env.client, handle.workflowId);
    assert.ok(runs.length >= 2);
    for (const run of runs) {
      const events = run.history.events?.length ?? 0;
      assert.ok(events < 1_000, `run ${run.runId} has ${events} events`);
    }
    await handle.terminate('test done');
  });
});
