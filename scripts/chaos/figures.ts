import type { Disruption } from './disruptions';
import { lostWorkResumedAfter, resumedAfter, type OrderHistory } from './histories';
import type { CheckReport, OrderRun } from './invariants';
import type { RequestCounts } from './simulatorAdmin';
import { seconds } from './timing';

/** How quickly orders in flight at a disruption made progress again. */
export interface Recovery {
  readonly disruption: Disruption;
  /** Orders running when it happened. */
  readonly touched: number;
  /** Time from the kill (or server stop) to the last touched order's first progress after it. */
  readonly maxMs?: number;
  readonly medianMs?: number;
  /** The order that resumed last. */
  readonly slowest?: string;
  /** Touched orders that never made progress again. */
  readonly neverResumed: number;
  /**
   * Orders whose work was lost (an activity or workflow task timed out with the worker or server) and the
   * longest time from the new worker polling (or the server answering) to that work being picked up again:
   * the crash's own cost, without retry backoffs of faults the simulator injected meanwhile.
   */
  readonly lostWork: { readonly orders: number; readonly maxMs?: number; readonly slowest?: string };
}

export interface ChaosFigures {
  readonly seed: number;
  readonly orders: number;
  readonly started: number;
  readonly completed: number;
  readonly workerKills: number;
  readonly serverRestarts: number;
  readonly workerStarts: number;
  readonly unexpectedWorkerExits: number;
  readonly fulfillRestarts: number;
  readonly ticketsClosed: number;
  readonly ticketsCanceled: number;
  readonly liveTickets: number;
  readonly retiredDuplicates: number;
  readonly activityRetries: number;
  readonly maxActivityAttempt: number;
  readonly workflowTaskTimeouts: number;
  /** Failed workflow tasks: non-determinism on replay or a bug in the workflow code. */
  readonly workflowTaskFailures: number;
  readonly simulatorRequests: number;
  readonly simulatorErrors: number;
  readonly simulatorDropped: number;
  readonly recoveries: readonly Recovery[];
  /** From the first order file to the last order closed. */
  readonly ordersMs: number;
  readonly ordersPerSecond: number;
  readonly orderLatencyMedianMs?: number;
  readonly orderLatencyMaxMs?: number;
  readonly totalMs: number;
}

export function median(values: readonly number[]): number | undefined {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

/** The recovery from `disruption` of the orders running when it happened. */
export function recoveryFrom(
  disruption: Disruption,
  runs: readonly OrderRun[],
  histories: ReadonlyMap<string, OrderHistory>,
  nextDisruptionAt?: number,
): Recovery {
  const touched = runs.filter(
    (run) => run.startMs < disruption.at && (run.closeMs === undefined || run.closeMs > disruption.at),
  );
  const delays = touched.map((run) => {
    const history = histories.get(run.workflowId);
    return { workflowId: run.workflowId, ms: history && resumedAfter(history, disruption.at) };
  });
  const resumed = delays.filter(
    (delay): delay is { workflowId: string; ms: number } => delay.ms !== undefined,
  );
  const slowest = resumed.reduce<(typeof resumed)[number] | undefined>(
    (last, delay) => (last === undefined || delay.ms > last.ms ? delay : last),
    undefined,
  );
  const next = (history: OrderHistory | undefined) =>
    history?.lostWorkResumedAt.find((at) => at > disruption.at);
  const lost = touched.flatMap((run) => {
    const history = histories.get(run.workflowId);
    const at = next(history);
    // Only work picked up before the next disruption is this disruption's.
    if (
      history === undefined ||
      at === undefined ||
      (nextDisruptionAt !== undefined && at > nextDisruptionAt)
    ) {
      return [];
    }
    const ms = lostWorkResumedAfter(history, disruption.backAt) ?? 0;
    return [{ workflowId: run.workflowId, ms }];
  });
  const slowestLost = lost.reduce<(typeof lost)[number] | undefined>(
    (last, delay) => (last === undefined || delay.ms > last.ms ? delay : last),
    undefined,
  );
  return {
    disruption,
    touched: touched.length,
    lostWork: { orders: lost.length, maxMs: slowestLost?.ms, slowest: slowestLost?.workflowId },
    maxMs: slowest?.ms,
    medianMs: median(resumed.map((delay) => delay.ms)),
    slowest: slowest?.workflowId,
    neverResumed: delays.length - resumed.length,
  };
}

/** What a run leaves behind, from which its figures are computed. */
export interface Evidence {
  readonly seed: number;
  readonly orders: number;
  readonly started: number;
  readonly report: CheckReport;
  readonly histories: ReadonlyMap<string, OrderHistory>;
  readonly disruptions: readonly Disruption[];
  readonly workerStarts: number;
  readonly unexpectedWorkerExits: number;
  readonly fulfillRestarts: number;
  readonly tickets: { readonly closed: number; readonly canceled: number };
  readonly requests: RequestCounts;
  /** Epoch ms: the run's start, the first order file, the end of the wait for orders. */
  readonly startedAt: number;
  readonly feedStartedAt: number;
  readonly ordersDoneAt: number;
}

export function measureFigures(evidence: Evidence): ChaosFigures {
  const { report, histories, disruptions } = evidence;
  const closed = report.runs.flatMap((run) => (run.closeMs === undefined ? [] : [run.closeMs - run.startMs]));
  const lastCloseMs = Math.max(evidence.feedStartedAt, ...report.runs.map((run) => run.closeMs ?? 0));
  const allClosed = closed.length === report.runs.length;
  const ordersMs = (allClosed ? lastCloseMs : evidence.ordersDoneAt) - evidence.feedStartedAt;
  const perHistory = (count: (history: OrderHistory) => number) => sum([...histories.values()].map(count));
  const kinds = (kind: Disruption['kind']) => disruptions.filter((done) => done.kind === kind).length;
  return {
    seed: evidence.seed,
    orders: evidence.orders,
    started: evidence.started,
    completed: report.runs.filter((run) => run.status === 'COMPLETED').length,
    workerKills: kinds('worker-kill'),
    serverRestarts: kinds('server-restart'),
    workerStarts: evidence.workerStarts,
    unexpectedWorkerExits: evidence.unexpectedWorkerExits,
    fulfillRestarts: evidence.fulfillRestarts,
    ticketsClosed: evidence.tickets.closed,
    ticketsCanceled: evidence.tickets.canceled,
    liveTickets: report.liveTickets,
    retiredDuplicates: report.retired.length,
    activityRetries: perHistory((history) => history.activityRetries),
    maxActivityAttempt: Math.max(1, ...[...histories.values()].map((history) => history.maxAttempt)),
    workflowTaskTimeouts: perHistory((history) => history.workflowTaskTimeouts),
    workflowTaskFailures: perHistory((history) => history.workflowTaskFailures),
    simulatorRequests: evidence.requests.total,
    simulatorErrors: sum(
      Object.entries(evidence.requests.byStatus).map(([status, count]) =>
        status.startsWith('5') ? count : 0,
      ),
    ),
    simulatorDropped: evidence.requests.byStatus.dropped ?? 0,
    recoveries: disruptions.map((done, index) =>
      recoveryFrom(done, report.runs, histories, disruptions[index + 1]?.at),
    ),
    ordersMs,
    ordersPerSecond: closed.length / Math.max(0.001, ordersMs / 1000),
    orderLatencyMedianMs: median(closed),
    orderLatencyMaxMs: closed.length === 0 ? undefined : Math.max(...closed),
    totalMs: Date.now() - evidence.startedAt,
  };
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

function recoveryText(recovery: Recovery): string {
  if (recovery.touched === 0) return 'no order in flight';
  const down = seconds(recovery.disruption.backAt - recovery.disruption.at);
  const max = recovery.maxMs === undefined ? 'never' : seconds(recovery.maxMs);
  const median = recovery.medianMs === undefined ? '-' : seconds(recovery.medianMs);
  const never = recovery.neverResumed > 0 ? `, ${recovery.neverResumed} never resumed` : '';
  const slowest = recovery.slowest === undefined ? '' : `, ${recovery.slowest}`;
  return `${recovery.touched} orders, back after ${down}, last resumed ${max}${slowest} (median ${median})${never}`;
}

function lostWorkText(recovery: Recovery): string {
  const { orders, maxMs, slowest } = recovery.lostWork;
  if (orders === 0) return 'none lost';
  return `${orders} orders, picked up at most ${optional(maxMs)} after the new worker polled (${slowest ?? '-'})`;
}

const optional = (ms: number | undefined) => (ms === undefined ? '-' : seconds(ms));

/** The figures as a compact two-column table. */
export function formatFigures(figures: ChaosFigures): string {
  const last = figures.recoveries.at(-1);
  const rows: [string, string][] = [
    ['seed', String(figures.seed)],
    ['orders started / completed', `${figures.started} / ${figures.completed} of ${figures.orders}`],
    [
      'disruptions',
      `${figures.workerKills} worker kills, ${figures.serverRestarts} server restarts ` +
        `(${figures.workerStarts} worker starts, ${figures.unexpectedWorkerExits} unexpected worker exits, ` +
        `${figures.fulfillRestarts} fulfill restarts)`,
    ],
    ['tickets closed / canceled', `${figures.ticketsClosed} / ${figures.ticketsCanceled}`],
    ['live tickets / retired duplicates', `${figures.liveTickets} / ${figures.retiredDuplicates}`],
    ['activity retries / most attempts', `${figures.activityRetries} / ${figures.maxActivityAttempt}`],
    [
      'workflow task timeouts / failures',
      `${figures.workflowTaskTimeouts} / ${figures.workflowTaskFailures}`,
    ],
    [
      'simulator requests / 5xx / dropped',
      `${figures.simulatorRequests} / ${figures.simulatorErrors} / ${figures.simulatorDropped}`,
    ],
    ...figures.recoveries.flatMap((recovery, i): [string, string][] => [
      [`recovery ${i + 1}: ${recovery.disruption.kind}`, recoveryText(recovery)],
      [`  work lost with it`, lostWorkText(recovery)],
    ]),
    [
      'lost work picked up, worst case',
      optional(Math.max(...figures.recoveries.map((recovery) => recovery.lostWork.maxMs ?? 0))),
    ],
    ['last disruption to last order resuming', last === undefined ? '-' : optional(last.maxMs)],
    [
      'order latency median / max',
      `${optional(figures.orderLatencyMedianMs)} / ${optional(figures.orderLatencyMaxMs)}`,
    ],
    [
      'orders time / throughput',
      `${seconds(figures.ordersMs)} / ${figures.ordersPerSecond.toFixed(2)} orders/s`,
    ],
    ['total run time', seconds(figures.totalMs)],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`).join('\n');
}
