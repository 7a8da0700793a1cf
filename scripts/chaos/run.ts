import { mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { disrupt } from './disruptions';
import { measureFigures, type ChaosFigures } from './figures';
import { Fulfiller, type Outcome } from './fulfiller';
import { orderHistory, type OrderHistory } from './histories';
import { checkOrders } from './invariants';
import { readLedger } from './ledger';
import { feedOrders, makeOrders, type IdentityManagerOrder } from './orders';
import { Random } from './random';
import type { Faults } from './simulatorAdmin';
import { Closers, startStack, type ChaosStack, type StackFolders } from './stack';
import { pause, seconds, until } from './timing';
import { PROVISIONING_WORKFLOW_TYPE } from '../../src/contract/names';

export interface ChaosOptions {
  readonly orders: number;
  readonly kills: number;
  readonly serverRestarts: number;
  /** Overall bound: at this point the run stops waiting for orders and checks what it has. */
  readonly timeoutMs: number;
  readonly seed: number;
  /** Faults the simulator injects into the connector's calls for the whole run. */
  readonly faults?: Faults;
  /** Where the settings, databases, order files and logs go (a new temporary folder by default). */
  readonly dir?: string;
  readonly log?: (line: string) => void;
  /** Stops the run early (Ctrl-C); it still checks what it has and cleans up. */
  readonly signal?: AbortSignal;
}

export interface ChaosResult {
  readonly figures: ChaosFigures;
  /** Broken invariants, one line each; empty when the connector behaved. */
  readonly violations: string[];
  /** Worth knowing but not invariants: unexpected exits, failed fulfiller actions, retired duplicates, a timeout. */
  readonly notes: string[];
  readonly dir: string;
}

export const DEFAULT_FAULTS: Faults = {
  errorRate: 0.05,
  dropRate: 0.02,
  latencyMs: 40,
  failAfterCommit: 0.1,
};
const RUNNING_ORDERS = `WorkflowType = '${PROVISIONING_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'`;

/**
 * A chaos run: the ServiceNow simulator with faults, a persisted Temporal dev server, the connector's worker and
 * `snow-ticket fulfill` as child processes; order files fed in over time and a fulfiller closing and canceling
 * tickets, while the worker is SIGKILLed and the server restarted at random moments with orders in flight. Then
 * the invariants are checked and the figures measured. Everything listens on loopback; every loop is bounded by
 * the run's timeout; every child is stopped at the end, also on failure.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const startedAt = Date.now();
  const log = options.log ?? ((line: string) => console.log(line));
  const say = (line: string) => log(`[chaos ${seconds(Date.now() - startedAt).padStart(8)}] ${line}`);
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), options.timeoutMs);
  const onAbort = () => stop.abort();
  options.signal?.addEventListener('abort', onAbort);
  const folders = makeFolders(options.dir ?? mkdtempSync(path.join(tmpdir(), 'snow-ticket-chaos-')));
  // One stream per role, so that each role's choices depend on the seed alone, not on the others' timing.
  const random = (role: number) => new Random((options.seed ^ Math.imul(role, 0x9e3779b1)) >>> 0);
  say(`seed ${options.seed}, ${options.orders} orders, folder ${folders.root}`);
  const closers = new Closers();
  try {
    const stack = await startStack(
      folders,
      { seed: options.seed, faults: options.faults ?? DEFAULT_FAULTS, say },
      closers,
    );
    const runningOrders = async () => (await stack.client.workflow.count(RUNNING_ORDERS)).count;

    let disrupting = true;
    const fulfiller = new Fulfiller(stack.simulator.admin, random(1), {
      minDelayMs: 1_000,
      maxDelayMs: 15_000,
      closeShare: 0.7,
      keepOpen: Math.max(2, Math.ceil(options.orders / 10)),
      holding: () => disrupting,
    });
    const stopFulfiller = new AbortController();
    const fulfilling = fulfiller.run(stopFulfiller.signal);
    closers.add(() => {
      stopFulfiller.abort();
      return fulfilling;
    });

    // 1. Orders flow in; once the first is started, the disruptions begin.
    const orders = makeOrders(options.orders, String(options.seed), random(2));
    const feedStartedAt = Date.now();
    const feeding = feedOrders(folders.orders, orders, random(3), stop.signal);
    await until(
      'a first order to start',
      async () => (stack.intake.workflowIds.size > 0 ? true : undefined),
      {
        timeoutMs: options.timeoutMs,
        signal: stop.signal,
      },
    );
    const disruptions = await disrupt(
      { kills: options.kills, serverRestarts: options.serverRestarts },
      {
        worker: stack.worker,
        server: stack.server,
        random: random(4),
        signal: stop.signal,
        inFlight: runningOrders,
        gapMs: [2_000, 10_000],
        onDisruption: (done) =>
          say(
            `${done.kind} (${done.inFlight} orders in flight), back after ${seconds(done.backAt - done.at)}`,
          ),
      },
    ).finally(() => {
      disrupting = false;
    });
    say(`${await feeding} order files written`);

    // 2. The fulfiller works off the tickets it held back; every order should end.
    const notes = await waitForOrders(stack, folders, options, stop.signal, runningOrders, say);
    const ordersDoneAt = Date.now();
    stopFulfiller.abort();
    await fulfilling;
    await stack.intake.stop();

    // 3. Invariants and figures.
    say('checking invariants');
    const report = await checkOrders({
      client: stack.client,
      taskQueue: stack.taskQueue,
      admin: stack.simulator.admin,
      orders: sentOrders(orders, stack),
      outcomes: new Map<string, Outcome>(
        [...fulfiller.outcomes].map(([number, { outcome }]) => [number, outcome]),
      ),
      ledger: await readLedger(stack.settingsFile),
    });
    const histories = new Map<string, OrderHistory>();
    for (const run of report.runs)
      histories.set(run.workflowId, await orderHistory(stack.client, run.workflowId));
    const figures = measureFigures({
      seed: options.seed,
      orders: options.orders,
      started: stack.intake.workflowIds.size,
      report,
      histories,
      disruptions,
      workerStarts: stack.worker.started,
      unexpectedWorkerExits: stack.worker.unexpectedExits.length,
      fulfillRestarts: stack.intake.restarts,
      tickets: fulfiller.counts,
      requests: await stack.simulator.admin.requestCounts(),
      startedAt,
      feedStartedAt,
      ordersDoneAt,
    });
    notes.push(
      ...stack.worker.unexpectedExits.map((exit) => `worker exited on its own: ${exit}`),
      ...stack.intake.unexpectedExits.map((exit) => `fulfill exited on its own: ${exit}`),
      ...fulfiller.failedActions.slice(0, 10).map((failure) => `fulfiller action failed: ${failure}`),
      ...report.retired.map(
        (ticket) => `retired duplicate ${ticket.number} (of ${ticket.correlationId ?? '?'}): ${ticket.note}`,
      ),
    );
    const violations = [
      ...report.violations,
      ...stack.intake.invalidFiles.map((line) => `order file moved to failed/: ${line}`),
    ];
    say(`done: ${violations.length} violations`);
    return { figures, violations, notes, dir: folders.root };
  } finally {
    clearTimeout(timer);
    stop.abort();
    options.signal?.removeEventListener('abort', onAbort);
    await closers.closeAll();
  }
}

function makeFolders(root: string): StackFolders {
  const folders = {
    root,
    logs: path.join(root, 'logs'),
    data: path.join(root, 'data'),
    orders: path.join(root, 'orders'),
  };
  for (const folder of Object.values(folders)) mkdirSync(folder, { recursive: true });
  return folders;
}

/**
 * Polls until every order was started and no order runs any more, keeping the worker and `fulfill` up; bounded
 * by the run's signal. Returns notes (why it stopped early, if it did).
 */
async function waitForOrders(
  stack: ChaosStack,
  folders: StackFolders,
  options: ChaosOptions,
  signal: AbortSignal,
  runningOrders: () => Promise<number>,
  say: (line: string) => void,
): Promise<string[]> {
  say('waiting for every order to complete');
  let lastProgress = '';
  while (!signal.aborted) {
    await stack.worker.ensureRunning();
    stack.intake.ensureRunning();
    const running = await runningOrders().catch(() => undefined);
    const waitingFiles = readdirSync(folders.orders).filter((name) => name.endsWith('.json')).length;
    const started = stack.intake.workflowIds.size;
    if (started >= options.orders && waitingFiles === 0 && running === 0) return [];
    const progress = `${started}/${options.orders} started, ${running ?? '?'} running, ${waitingFiles} files waiting`;
    if (progress !== lastProgress) say(progress);
    lastProgress = progress;
    await pause(2_000, signal);
  }
  return [
    options.signal?.aborted === true
      ? 'the run was interrupted before every order completed'
      : `the run hit its ${seconds(options.timeoutMs)} bound before every order completed`,
  ];
}

function sentOrders(orders: readonly IdentityManagerOrder[], stack: ChaosStack) {
  return orders.map((order) => ({
    assignmentId: order.AssignedResourceTypeId,
    workflowId: stack.intake.workflowIds.get(order.AssignedResourceTypeId),
  }));
}
