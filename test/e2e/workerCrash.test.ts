import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Child } from '../../scripts/chaos/children';
import { CONNECTION, writeConnectorSettings } from '../../scripts/chaos/connectorSettings';
import type { Outcome } from '../../scripts/chaos/fulfiller';
import { orderHistory, resumedAfter } from '../../scripts/chaos/histories';
import { checkOrders } from '../../scripts/chaos/invariants';
import { readLedger } from '../../scripts/chaos/ledger';
import { makeOrders } from '../../scripts/chaos/orders';
import { Random } from '../../scripts/chaos/random';
import { SimulatorAdmin, type Ticket } from '../../scripts/chaos/simulatorAdmin';
import { startWorkerProcess } from '../../scripts/chaos/workerProcess';
import { jsonOf, runCli } from '../helpers/cli';
import { startFakeIdentityManager, type FakeIdentityManager } from '../helpers/fakeIdentityManager';
import { tempDir, writeJson } from '../helpers/files';
import { useSimulator } from '../helpers/simulator';
import { createDevServerEnv } from '../helpers/temporal';
import { waitFor } from '../helpers/waitFor';

/**
 * The worker process is SIGKILLed while activities are mid-call, and a new one is started: every order touched
 * must complete with exactly one ticket. How soon it resumes depends on the activity timeouts: without heartbeats
 * an attempt held by the dead worker is retried only after its start-to-close timeout (10 minutes for openTicket
 * and recordAssignment), with heartbeats after the heartbeat timeout. The bound below is generous for the latter
 * and shorter than the former. Recovery times are printed, not asserted.
 */
const RECOVERY_BOUND_MS = 4 * 60_000;
const ORDERS = 3;

interface StartedJson {
  readonly workflowId: string;
  readonly assignmentId: string;
}

describe('worker crash recovery (dev server, worker process SIGKILLed mid-activity)', () => {
  const fixture = useSimulator();
  const dir = tempDir('snow-ticket-worker-crash-');
  let env: TestWorkflowEnvironment;
  let identityManager: FakeIdentityManager;
  let admin: SimulatorAdmin;
  const workers: Child[] = [];

  before(async () => {
    env = await createDevServerEnv();
    identityManager = await startFakeIdentityManager();
    const { sim } = fixture;
    admin = new SimulatorAdmin({
      url: sim.url,
      login: sim.credentials.login,
      password: sim.credentials.password,
    });
  });
  after(async () => {
    for (const worker of workers) await worker.stop(20_000);
    await identityManager?.close();
    await env?.teardown();
  });

  function settingsFor(taskQueue: string, assignments?: Record<string, unknown>): string {
    const { sim } = fixture;
    return writeConnectorSettings(path.join(dir, `${taskQueue}.json`), {
      simulator: { ...sim, login: sim.credentials.login, password: sim.credentials.password },
      temporalAddress: env.address,
      taskQueue,
      dataDir: path.join(dir, taskQueue),
      assignments,
    });
  }

  async function startWorker(settingsFile: string, n: number): Promise<Child> {
    const worker = await startWorkerProcess(settingsFile, dir, n);
    workers.push(worker);
    return worker;
  }

  /** Starts orders as Identity Manager's side would, through `snow-ticket provision`. */
  async function provision(settingsFile: string, seed: number): Promise<StartedJson[]> {
    const orders = makeOrders(ORDERS, `crash${seed}`, new Random(seed));
    const file = writeJson(dir, `orders-${seed}.json`, { ProvisioningOrdersList: orders });
    const started = jsonOf<StartedJson[]>(
      await runCli(['--config', settingsFile, 'provision', file, '--connection', CONNECTION, '--json']),
    );
    assert.equal(started.length, ORDERS);
    return started;
  }

  /** The ticket of each order, once every order has one. */
  async function ticketsOf(workflowIds: readonly string[]): Promise<Ticket[]> {
    return waitFor(
      'a ticket for every order',
      async () => {
        const tickets = await admin.tickets('all');
        const found = workflowIds.map((id) => tickets.find((ticket) => ticket.correlation_id === id));
        return found.every((ticket) => ticket !== undefined) ? found : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 100 },
    );
  }

  async function closeAll(tickets: readonly Ticket[]): Promise<Map<string, Outcome>> {
    const outcomes = new Map<string, Outcome>();
    for (const ticket of tickets) {
      await admin.act(ticket.number, 'close');
      outcomes.set(ticket.number, 'close');
    }
    return outcomes;
  }

  /** Every order ended (the checks say how), within one bound for them all. */
  async function waitForAll(workflowIds: readonly string[]): Promise<void> {
    await waitFor(
      `${workflowIds.join(', ')} to end after the crash`,
      async () => {
        for (const workflowId of workflowIds) {
          const description = await env.client.workflow.getHandle(workflowId).describe();
          if (description.status.name === 'RUNNING') return undefined;
        }
        return true;
      },
      { timeoutMs: RECOVERY_BOUND_MS, intervalMs: 1_000 },
    );
  }

  /** Prints how long after the new worker's start each order made progress again; returns activity retries. */
  async function reportRecovery(label: string, workflowIds: readonly string[], restartedAt: number) {
    const retries: number[] = [];
    for (const workflowId of workflowIds) {
      const history = await orderHistory(env.client, workflowId);
      const resumed = resumedAfter(history, restartedAt);
      console.log(
        `  ${label}: ${workflowId} resumed ${resumed === undefined ? 'never' : `${(resumed / 1000).toFixed(1)} s`} ` +
          `after the new worker started (${history.activityRetries} activity retries)`,
      );
      retries.push(history.activityRetries);
    }
    return retries;
  }

  test('killed while openTicket waits on ServiceNow: one ticket per order, every order completes', async () => {
    await admin.reset();
    const settingsFile = settingsFor('crash-open-ticket');
    const first = await startWorker(settingsFile, 1);
    // Every ServiceNow answer takes 5 s: once a ticket exists, its openTicket is still in its last lookup.
    await admin.setFaults({ latencyMs: 5_000 });
    const started = await provision(settingsFile, 1);
    const workflowIds = started.map((order) => order.workflowId);
    const tickets = await ticketsOf(workflowIds);
    first.kill('SIGKILL');
    await first.exited;
    await admin.setFaults({ latencyMs: 0 });
    const outcomes = await closeAll(tickets);

    const restartedAt = Date.now();
    await startWorker(settingsFile, 2);
    await waitForAll(workflowIds);

    const report = await checkOrders({
      client: env.client,
      taskQueue: 'crash-open-ticket',
      admin,
      orders: started,
      outcomes,
      ledger: await readLedger(settingsFile),
    });
    assert.deepEqual(report.violations, []);
    assert.equal(report.retired.length, 0, 'no duplicate ticket was even created');
    const retries = await reportRecovery('openTicket', workflowIds, restartedAt);
    assert.ok(
      retries.every((count) => count > 0),
      'every openTicket was cut by the kill and retried',
    );
  });

  test('killed while recordAssignment waits on Identity Manager: every order completes, states sent once', async () => {
    await admin.reset();
    const taskQueue = 'crash-record-assignment';
    const settingsFile = settingsFor(taskQueue, {
      Store: 'Http',
      // A call may hang for minutes: only the kill ends the hanging Transmitted calls below.
      Http: { UrlTemplate: `${identityManager.url}/api/assignments/{assignmentId}/{state}`, Timeout: '10m' },
    });
    const first = await startWorker(settingsFile, 1);
    identityManager.failNext(ORDERS, { kind: 'hang' });
    const before = identityManager.requests.length;
    const started = await provision(settingsFile, 2);
    const workflowIds = started.map((order) => order.workflowId);
    const tickets = await ticketsOf(workflowIds);
    await waitFor('every Transmitted call to hang', () =>
      identityManager.requests.length - before >= ORDERS ? true : undefined,
    );
    first.kill('SIGKILL');
    await first.exited;
    const outcomes = await closeAll(tickets);

    const restartedAt = Date.now();
    await startWorker(settingsFile, 2);
    await waitForAll(workflowIds);

    const report = await checkOrders({ client: env.client, taskQueue, admin, orders: started, outcomes });
    assert.deepEqual(report.violations, []);
    const accepted = identityManager.received.map((request) => request.idempotencyKey);
    for (const workflowId of workflowIds) {
      for (const state of ['Transmitted', 'Executed']) {
        const key = `${encodeURIComponent(workflowId)}:${state}`;
        assert.equal(accepted.filter((candidate) => candidate === key).length, 1, `${key} accepted once`);
      }
    }
    const retries = await reportRecovery('recordAssignment', workflowIds, restartedAt);
    assert.ok(
      retries.every((count) => count > 0),
      'every Transmitted record was cut by the kill and retried',
    );
  });
});
