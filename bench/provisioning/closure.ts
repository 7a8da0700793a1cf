import type { SimulatorAdmin } from '../../scripts/chaos/simulatorAdmin';
import { startPushPart, startSweepPart } from './closureParts';
import { round, sleep, spread, waitForCount, type Spread } from './measure';
import { startPollingPart, timeScale, type PollingSizes } from './polling';
import type { BenchStack, ConnectorPart } from './stack';

export interface ClosureFigures {
  readonly mode: 'polling' | 'push' | 'sweep';
  /** Close in the simulator → the final state in the ledger, in real seconds of this run. */
  readonly latencySeconds: Spread;
  /** The same, scaled back to the real policy (MaxInterval 1h); absent when the run is not time scaled. */
  readonly scaledMinutes?: { readonly p50: number; readonly p99: number };
  readonly finished: number;
  readonly closed: number;
  readonly note: string;
}

/** One way of learning that a ticket closed; each takes the stack and sets up what it needs. */
export type ClosureMode = (stack: BenchStack, sizes: PollingSizes) => Promise<ClosureFigures | undefined>;

export const closureModes = {
  polling: pollingClosure,
  push: pushClosure,
  sweep: sweepClosure,
} satisfies Record<ClosureFigures['mode'], ClosureMode>;

/**
 * The sweep's Interval in this part: `npm start`'s. At the default (1 min) a closure waits up to a whole
 * interval plus a sweep, about 45 s at p99 on top of this part's figure.
 */
const SWEEP_INTERVAL_MS = 15_000;

/** Per-ticket polling alone, at the scaled steady interval. */
async function pollingClosure(stack: BenchStack, sizes: PollingSizes): Promise<ClosureFigures> {
  const { part } = await startPollingPart(stack, 'closure-polling', sizes);
  try {
    const measured = await closeAndAwait(stack, part, stack.simulator.admin, 'polling', {
      closeOverMs: 2 * sizes.intervalMs,
      timeoutMs: 3 * sizes.intervalMs + sizes.timeoutMs,
    });
    const scale = timeScale(sizes);
    const { p50, p99 } = measured.latencySeconds;
    return {
      ...measured,
      scaledMinutes: { p50: round((p50 * scale) / 60), p99: round((p99 * scale) / 60) },
      note: `MaxInterval 1h scaled to ${sizes.intervalMs / 1000} s (x${round(scale)}), jitter 10%`,
    };
  } finally {
    await part.stop();
  }
}

/** Push alone (goal: p99 under 2 s): polling at its real hour, the sweep off, a simulator of its own notifying. */
async function pushClosure(stack: BenchStack, sizes: PollingSizes): Promise<ClosureFigures> {
  const { part, simulator } = await startPushPart(stack, 'closure-push', sizes);
  try {
    const measured = await closeAndAwait(stack, part, simulator.admin, 'push', {
      closeOverMs: 2 * sizes.intervalMs,
      timeoutMs: sizes.timeoutMs,
    });
    return { ...measured, note: 'signed notifications to the worker, polling 1h, sweep off' };
  } finally {
    await part.stop();
  }
}

/** The sweep alone: the safety poll at a day, push off. */
async function sweepClosure(stack: BenchStack, sizes: PollingSizes): Promise<ClosureFigures> {
  const part = await startSweepPart(stack, 'closure-sweep', { ...sizes, intervalMs: SWEEP_INTERVAL_MS });
  try {
    const measured = await closeAndAwait(stack, part, stack.simulator.admin, 'sweep', {
      closeOverMs: 2 * SWEEP_INTERVAL_MS,
      timeoutMs: 3 * SWEEP_INTERVAL_MS + sizes.timeoutMs,
    });
    return {
      ...measured,
      note:
        `Sweep.Interval ${SWEEP_INTERVAL_MS / 1000} s as npm start sets it (the default 1 min adds up to ` +
        `45 s at p99), safety poll 1 day, push off`,
    };
  } finally {
    await part.stop();
  }
}

/**
 * Closes each of the part's tickets through `admin` at a random moment over `closeOverMs` (so that closures fall
 * anywhere in the cycle of whatever notices them), then awaits each order's final state in the ledger.
 */
async function closeAndAwait(
  stack: BenchStack,
  part: ConnectorPart,
  admin: SimulatorAdmin,
  mode: ClosureFigures['mode'],
  { closeOverMs, timeoutMs }: { readonly closeOverMs: number; readonly timeoutMs: number },
): Promise<Omit<ClosureFigures, 'note'>> {
  const tickets = part.ledger.ticketNumbers();
  stack.say(`closure (${mode}): closing ${tickets.size} tickets over ${closeOverMs / 1000} s...`);
  const closedAt = new Map<string, number>();
  await Promise.all(
    [...tickets].map(async ([orderId, number]) => {
      await sleep(Math.random() * closeOverMs);
      // From the request on: a notification may reach the worker before the simulator's answer reaches us.
      const at = Date.now();
      await admin.act(number, 'close');
      closedAt.set(orderId, at);
    }),
  );
  const ended = await waitForCount(() => part.ledger.count('Executed'), closedAt.size, { timeoutMs });
  const recorded = part.ledger.recordedAt('Executed');
  const latencies = [...closedAt].flatMap(([orderId, at]) => {
    const done = recorded.get(orderId);
    return done === undefined ? [] : [(done - at) / 1000];
  });
  const seconds = spread(latencies);
  return {
    mode,
    latencySeconds: {
      ...seconds,
      p50: round(seconds.p50, 2),
      p99: round(seconds.p99, 2),
      max: round(seconds.max, 2),
    },
    finished: ended.reached,
    closed: closedAt.size,
  };
}
