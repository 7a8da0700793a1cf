import { startSweepPart, sweepStatus } from './closureParts';
import { round, sleep, waitForCount } from './measure';
import { openTickets } from './openTickets';
import { countRequests } from './requests';
import type { BenchStack } from './stack';

const HOUR_MS = 3_600_000;

/** What the measured sweep stands for: the default Interval and Overlap, scaled down by the same factor. */
export interface SweepWindow {
  readonly tickets: number;
  readonly concurrency: number;
  readonly timeoutMs: number;
  readonly maxCachedWorkflows: number;
  readonly windowMs: number;
  /** The sweep's Interval in the run; the default Interval over it is the time scale. */
  readonly intervalMs: number;
  readonly defaultIntervalMs: number;
  readonly defaultOverlapMs: number;
  /** The safety poll's interval while the sweep runs (a day): computed, since it does not fit a window. */
  readonly safetyPollMs: number;
  readonly callsPerCheck: number;
  /** Open tickets added after the first window, before a second one; 0 measures one window. */
  readonly moreTickets: number;
}

/** Measured: the sweep's requests over a window with `tickets` open tickets, none changing. */
export interface SweepCallsAt {
  readonly tickets: number;
  readonly sweeps: number;
  readonly requests: number;
  readonly byTarget: Readonly<Record<string, number>>;
  readonly callsPerSweep: number;
  /** At the default Interval, per connection. */
  readonly sweepCallsPerHour: number;
  /** sweepCallsPerHour / tickets plus the safety poll's calls (computed). */
  readonly perTicketPerHour: number;
}

export interface MeasuredSweepCalls {
  readonly intervalMs: number;
  readonly overlapMs: number;
  readonly scale: number;
  readonly windowMs: number;
  readonly windows: readonly SweepCallsAt[];
}

/**
 * The sweep + safety poll, its sweep measured: a part sweeping at the scaled Interval and Overlap with its orders'
 * safety poll at a day, and `tickets` open tickets of which none changes; the simulator's requests are counted
 * over a window once the tickets' creations are behind the overlap, and divided by the sweeps the workflow
 * reports over it. With `moreTickets`, again after opening that many more, to show that the sweep's calls follow
 * the changes, not the open tickets.
 */
export async function measureSweepCalls(stack: BenchStack, sizes: SweepWindow): Promise<MeasuredSweepCalls> {
  const scale = sizes.defaultIntervalMs / sizes.intervalMs;
  const overlapMs = Math.round(sizes.defaultOverlapMs / scale);
  const name = 'calls-sweep';
  const part = await startSweepPart(stack, name, { ...sizes, overlapMs });
  try {
    const windows = [await sweepWindow(stack, sizes, sizes.tickets, overlapMs)];
    if (sizes.moreTickets > 0) {
      await openTickets(stack, name, part, sizes.moreTickets, sizes, sizes.tickets);
      windows.push(await sweepWindow(stack, sizes, sizes.tickets + sizes.moreTickets, overlapMs));
    }
    return {
      intervalMs: sizes.intervalMs,
      overlapMs,
      scale: round(scale, 2),
      windowMs: sizes.windowMs,
      windows,
    };
  } finally {
    await part.stop();
  }
}

async function sweepWindow(
  stack: BenchStack,
  sizes: SweepWindow,
  tickets: number,
  overlapMs: number,
): Promise<SweepCallsAt> {
  // The creations leave the overlap, the sweeps that told their orders end, then one whole sweep runs.
  await sleep(overlapMs + sizes.intervalMs);
  const settled = (await sweepStatus(stack)).sweeps + 2;
  await waitForCount(async () => (await sweepStatus(stack)).sweeps, settled, { timeoutMs: sizes.timeoutMs });
  stack.say(
    `calls: sweep every ${sizes.intervalMs / 1000} s, ${tickets} open tickets; ` +
      `counting requests for ${sizes.windowMs / 1000} s...`,
  );
  let sweeps = 0;
  const counted = await countRequests(stack, async () => {
    const first = (await sweepStatus(stack)).sweeps;
    await sleep(sizes.windowMs);
    sweeps = (await sweepStatus(stack)).sweeps - first;
  });
  if (sweeps === 0) throw new Error(`calls: no sweep ended within ${sizes.windowMs / 1000} s`);
  const callsPerSweep = counted.requests / sweeps;
  const sweepCallsPerHour = round((HOUR_MS / sizes.defaultIntervalMs) * callsPerSweep, 1);
  const safety = (HOUR_MS / sizes.safetyPollMs) * sizes.callsPerCheck;
  return {
    tickets,
    sweeps,
    ...counted,
    callsPerSweep: round(callsPerSweep, 2),
    sweepCallsPerHour,
    perTicketPerHour: round(sweepCallsPerHour / tickets + safety, 4),
  };
}
