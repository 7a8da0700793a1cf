import { checkDelay } from '../../src/workflows/provisioning/schedule';
import { round, sleep } from './measure';
import { startPollingPart, timeScale, type PollingSizes } from './polling';
import { countRequests } from './requests';
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
    const { requests, byTarget } = await countRequests(stack, () => sleep(sizes.windowMs));
    const intervals = sizes.windowMs / sizes.intervalMs;
    return {
      tickets: sizes.tickets,
      intervalMs: sizes.intervalMs,
      windowMs: sizes.windowMs,
      requests,
      byTarget,
      perTicketPerHour: round(requests / sizes.tickets / intervals, 3),
    };
  } finally {
    await part.stop();
  }
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
 * connection of which `changedPerHour` change each hour. Keyset paging ends on an empty page only (a short one
 * may be short because of ACLs), and the read from the watermark less the overlap always finds at least the
 * watermark's own row: so each table's read is its non-empty pages plus the empty one, at least two calls (as
 * measured with no ticket changing).
 */
export function computedSweepCalls(
  policy: SweepPolicy,
  openTickets: number,
  changedPerHour: number,
): { sweepCallsPerHour: number; perTicketPerHour: number } {
  const rowsPerRead = (changedPerHour / policy.tables) * ((policy.intervalMs + policy.overlapMs) / HOUR_MS);
  const pagesPerRead = Math.ceil(Math.max(1, rowsPerRead) / policy.pageSize) + 1;
  const sweepCallsPerHour = (HOUR_MS / policy.intervalMs) * policy.tables * pagesPerRead;
  const safety = (HOUR_MS / policy.safetyPollMs) * policy.callsPerCheck;
  return {
    sweepCallsPerHour,
    perTicketPerHour: round(sweepCallsPerHour / openTickets + safety, 4),
  };
}
