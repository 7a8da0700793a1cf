import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import type { Child } from '../../scripts/chaos/children';
import { writeConnectorSettings } from '../../scripts/chaos/connectorSettings';
import { Fulfiller, type Outcome } from '../../scripts/chaos/fulfiller';
import { lostWorkResumedAfter, orderHistory } from '../../scripts/chaos/histories';
import { OrderIntake } from '../../scripts/chaos/intake';
import { checkOrders } from '../../scripts/chaos/invariants';
import { readLedger } from '../../scripts/chaos/ledger';
import { feedOrders, makeOrders } from '../../scripts/chaos/orders';
import { Random } from '../../scripts/chaos/random';
import { startSimulatorProcess } from '../../scripts/chaos/simulatorProcess';
import { Closers } from '../../scripts/chaos/stack';
import { seconds, until } from '../../scripts/chaos/timing';
import { startWorkerProcess } from '../../scripts/chaos/workerProcess';
import { startCluster } from '../../scripts/cluster/cluster';
import { PROVISIONING_WORKFLOW_TYPE } from '../../src/contract/names';

/**
 * The compose topology for real, minus Docker: a Temporal cluster on PostgreSQL with one process per server role
 * (scripts/cluster), the ServiceNow simulator, and three connector worker processes on one task queue sharing
 * one ledger. Orders flow in through `snow-ticket fulfill`; once tickets are being opened, one worker is
 * SIGKILLed; the fulfiller then closes or cancels every ticket. The two surviving workers must finish every
 * order with exactly one ticket each and the outcome in the workflow result and the ledger (the chaos run's
 * invariants). Every wait is bounded; every process is stopped in `after`, also when the test fails.
 */

const ORDERS = 30;
const SEED = 20_261_205;
const TASK_QUEUE = 'cluster';
/** Kill once this many tickets exist: orders are then being opened, started and waited on all at once. */
const TICKETS_BEFORE_KILL = 10;
const ORDERS_TIMEOUT_MS = 4 * 60_000;
const RUNNING_ORDERS = `WorkflowType = '${PROVISIONING_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'`;

const root = mkdtempSync(path.join(tmpdir(), 'snow-ticket-cluster-test-'));
const closers = new Closers();
const lines: string[] = [];
const startedAt = Date.now();
const say = (line: string) => lines.push(`[${seconds(Date.now() - startedAt).padStart(8)}] ${line}`);

after(async () => {
  await closers.closeAll();
  rmSync(root, { recursive: true, force: true });
});

test(
  'cluster: 30 orders on three workers over a multi-process Temporal on PostgreSQL survive a worker SIGKILL',
  { timeout: 10 * 60_000 },
  async () => {
    try {
      await runScenario();
    } catch (error) {
      // The run's own log says where it stood; the process logs are gone with the folder once `after` runs.
      console.log(lines.join('\n'));
      throw error;
    }
    console.log(lines.join('\n'));
  },
);

async function runScenario(): Promise<void> {
  const cluster = await startCluster({ dir: root, log: say });
  closers.add(() => cluster.stop());
  const logs = cluster.logDir;
  const ordersDir = path.join(root, 'orders');
  const dataDir = path.join(root, 'data');
  for (const dir of [ordersDir, dataDir]) mkdirSync(dir, { recursive: true });

  const simulator = await startSimulatorProcess({ dir: logs, randomSeed: SEED });
  closers.add(() => simulator.child.stop());
  say(`simulator at ${simulator.url}`);

  const settingsFile = writeConnectorSettings(path.join(root, 'settings.json'), {
    simulator,
    temporalAddress: cluster.address,
    namespace: cluster.namespace,
    taskQueue: TASK_QUEUE,
    dataDir,
  });
  const connection = await Connection.connect({ address: cluster.address });
  closers.add(() => connection.close());
  const client = new Client({ connection, namespace: cluster.namespace });

  const workers: Child[] = [];
  closers.add(() => Promise.all(workers.map((worker) => worker.stop(20_000))));
  await Promise.all(
    [1, 2, 3].map(async (n) => {
      workers.push(await startWorkerProcess(settingsFile, logs, n));
    }),
  );
  say(
    `three workers polling task queue ${TASK_QUEUE}: pids ${workers.map((worker) => worker.pid).join(', ')}`,
  );

  let holding = true;
  const fulfiller = new Fulfiller(simulator.admin, new Random(SEED), {
    minDelayMs: 500,
    maxDelayMs: 3_000,
    closeShare: 0.8,
    keepOpen: ORDERS,
    holding: () => holding,
  });
  const stopFulfiller = new AbortController();
  const fulfilling = fulfiller.run(stopFulfiller.signal);
  closers.add(() => {
    stopFulfiller.abort();
    return fulfilling;
  });

  const intake = new OrderIntake(settingsFile, ordersDir, logs);
  closers.add(() => intake.stop());
  intake.ensureRunning();
  const orders = makeOrders(ORDERS, String(SEED), new Random(SEED + 1));
  const stopFeeding = new AbortController();
  closers.add(async () => stopFeeding.abort());
  const feeding = feedOrders(ordersDir, orders, new Random(SEED + 2), stopFeeding.signal);

  // 1. Tickets are being opened: one worker dies mid-flight, activities and cached workflows with it.
  const ticketsAtKill = await until(
    `${TICKETS_BEFORE_KILL} tickets to be opened`,
    async () => {
      const count = (await simulator.admin.tickets('all')).length;
      return count >= TICKETS_BEFORE_KILL ? count : undefined;
    },
    { timeoutMs: 3 * 60_000, intervalMs: 200 },
  );
  const victim = workers[0] as Child;
  const killedAt = Date.now();
  victim.kill('SIGKILL');
  const victimExit = await victim.exited;
  const runningAtKill = (await client.workflow.count(RUNNING_ORDERS)).count;
  say(
    `SIGKILLed ${victim.name} (pid ${victim.pid}) with ${ticketsAtKill} tickets open, ${runningAtKill} orders running`,
  );
  holding = false;
  say(`${await feeding} order files written`);

  // 2. The fulfiller works every ticket; the two survivors must bring every order to its end.
  await until(
    `all ${ORDERS} orders to be started and to end`,
    async () => {
      intake.ensureRunning();
      const started = intake.workflowIds.size;
      const waitingFiles = readdirSync(ordersDir).filter((name) => name.endsWith('.json')).length;
      const running = (await client.workflow.count(RUNNING_ORDERS)).count;
      say(`${started}/${ORDERS} started, ${running} running, ${waitingFiles} files waiting`);
      return started >= ORDERS && waitingFiles === 0 && running === 0 ? true : undefined;
    },
    { timeoutMs: ORDERS_TIMEOUT_MS, intervalMs: 2_000 },
  );
  stopFulfiller.abort();
  await fulfilling;
  await intake.stop();

  // 3. The chaos run's invariants: every order ended, one ticket each, outcome in result and ledger.
  const report = await checkOrders({
    client,
    taskQueue: TASK_QUEUE,
    admin: simulator.admin,
    orders: orders.map((order) => ({
      assignmentId: order.AssignedResourceTypeId,
      workflowId: intake.workflowIds.get(order.AssignedResourceTypeId),
    })),
    outcomes: new Map<string, Outcome>(
      [...fulfiller.outcomes].map(([number, { outcome }]) => [number, outcome]),
    ),
    ledger: await readLedger(settingsFile),
  });
  // Work the dead worker held (an activity cut mid-call, a workflow cached on its sticky queue) that timed out
  // and was taken over by a survivor: proof that the kill was felt, not dodged.
  const takenOver: string[] = [];
  for (const run of report.runs) {
    const history = await orderHistory(client, run.workflowId);
    if (lostWorkResumedAfter(history, killedAt) !== undefined) takenOver.push(run.workflowId);
  }
  say(`${takenOver.length} orders resumed work lost with ${victim.name}`);
  say(
    `${report.liveTickets} live tickets, ${report.retired.length} retired duplicates, ${fulfiller.counts.closed} closed, ${fulfiller.counts.canceled} canceled`,
  );

  assert.equal(victimExit.signal, 'SIGKILL');
  assert.ok(runningAtKill > 0, 'orders were in flight when the worker was killed');
  assert.ok(takenOver.length > 0, 'another worker took over work the killed worker held');
  assert.deepEqual(report.violations, []);
  assert.equal(report.runs.filter((run) => run.status === 'COMPLETED').length, ORDERS);
  assert.equal(report.liveTickets, ORDERS, 'exactly one ticket per order');
  assert.deepEqual(
    workers.slice(1).map((worker) => worker.isRunning()),
    [true, true],
    'the two other workers kept running',
  );
  assert.deepEqual(intake.invalidFiles, []);
  assert.deepEqual(fulfiller.failedActions, []);
}
