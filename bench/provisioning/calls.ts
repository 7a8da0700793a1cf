import type { RequestCounts } from '../../src/simulator/stats';
import { checkDelay } from '../../src/workflows/provisioning/schedule';
import { round, sleep } from './measure';
import { startPollingPart, timeScale, type PollingSizes } from './polling';
import type { BenchStack } from './stack';

const HOUR_MS = 3_600_000;

/** Measured: ServiceNow requests the simulator answered while `tickets` orders polled at steady state. */
export interface MeasuredPollingCalls {
  readonly tickets: number;
  readonly intervalMs: number;
  readonly windowMs: number;
  readonly requests: number;
  readonly byTarget: Readonly<Record<string, number>>;
  /** Requests per ticket per scaled interval, i.e. per ticket per hour at MaxInterval 1h. */
  readonly perTicketPerHour: number;
}

export interface PollingWindow extends PollingSizes {
  readonly windowMs: number;
}

/** Per-ticket polling alone (the old default): measured on the simulator over a window, time scaled. */
export async function measurePollingCalls(
  stack: BenchStack,
  sizes: PollingWindow,
): Promise<MeasuredPollingCalls> {
  const { part } = await startPollingPart(stack, 'calls-polling', sizes);
  try {
    stack.say(
      `calls: ${sizes.tickets} tickets polled every ${sizes.intervalMs} ms (1h / ${timeScale(sizes)}); ` +
        `counting requests for ${sizes.windowMs / 1000} s...`,
    );
    const before = await requestCounts(stack);
    await sleep(sizes.windowMs);
    const after = await requestCounts(stack);
    const requests = after.total - before.total;
    const intervals = sizes.windowMs / sizes.intervalMs;
    return {
      tickets: sizes.tickets,
      intervalMs: sizes.intervalMs,
      windowMs: sizes.windowMs,
      requests,
      byTarget: Object.fromEntries(
        Object.entries(after.byMethodAndTarget)
          .map(([target, count]): [string, number] => [
            target,
            count - (before.byMethodAndTarget[target] ?? 0),
          ])
          .filter(([, count]) => count !== 0),
      ),
      perTicketPerHour: round(requests / sizes.tickets / intervals, 3),
    };
  } finally {
    await part.stop();
  }
}

async function requestCounts(stack: BenchStack): Promise<RequestCounts> {
  // The chaos helper's type names only what chaos reads; the simulator answers the whole RequestCounts.
  return (await stack.simulator.admin.requestCounts()) as RequestCounts;
}

/** The per-order poll's schedule, as the workflow computes it (src/workflows/provisioning/schedule.ts). */
export interface PollPolicy {
  readonly firstCheckAfterMs: number;
  readonly maxIntervalMs: number;
  readonly backoffCoefficient: number;
  /** ServiceNow requests one status check makes (measured: the simulator's count per check). */
  readonly callsPerCheck: number;
}

/** Computed: calls per ticket in its first hour, and per hour once the wait has grown to MaxInterval. */
export function computedPollingCalls(policy: PollPolicy): { firstHour: number; steadyPerHour: number } {
  // The wait after the opening and the one after the first check are both FirstCheckAfter (pollStep 0).
  const polling = { ...policy, jitter: 0 };
  let checks = 0;
  for (let at = checkDelay(polling, 0, 0.5); at <= HOUR_MS; at += checkDelay(polling, checks - 1, 0.5))
    checks++;
  return {
    firstHour: checks * policy.callsPerCheck,
    steadyPerHour: round((HOUR_MS / policy.maxIntervalMs) * policy.callsPerCheck, 4),
  };
}

/** The sweep's policy (TicketConnector.Sweep) plus the safety poll it lets relax. */
export interface SweepPolicy {
  readonly intervalMs: number;
  readonly overlapMs: number;
  readonly pageSize: number;
  /** Ticket tables the connection's mappings use: one keyset-paged read each per sweep. */
  readonly tables: number;
  readonly safetyPollMs: number;
  readonly callsPerCheck: number;
}

/**
 * Computed: calls per open ticket per hour with the sweep (one keyset-paged read per table per interval, over
 * the rows changed since the watermark less the overlap) and the safety poll, for `openTickets` tickets of one
 * connection of which `changedPerHour` change each hour. A sweep reads at least one page per table, and one
 * more than the full pages (the short or empty page that proves the end).
 */
export function computedSweepCalls(
  policy: SweepPolicy,
  openTickets: number,
  changedPerHour: number,
): { sweepCallsPerHour: number; perTicketPerHour: number } {
  const rowsPerRead = (changedPerHour / policy.tables) * ((policy.intervalMs + policy.overlapMs) / HOUR_MS);
  const pagesPerRead = Math.floor(rowsPerRead / policy.pageSize) + 1;
  const sweepCallsPerHour = (HOUR_MS / policy.intervalMs) * policy.tables * pagesPerRead;
  const safety = (HOUR_MS / policy.safetyPollMs) * policy.callsPerCheck;
  return {
    sweepCallsPerHour,
    perTicketPerHour: round(sweepCallsPerHour / openTickets + safety, 4),
  };
}

/**
 * Measured sweep + safety poll: TO BE COMPLETED by the lead once the sweep is merged (the sweep workflow is not
 * on this branch). Shape: startPollingPart with Sweep.Enabled and MaxInterval scaled from a day, the sweep
 * Interval scaled the same way, then count the simulator's requests over a window as measurePollingCalls does.
 */
export function measureSweepCalls(): Promise<undefined> {
  return Promise.resolve(undefined);
}
