import { round, sleep, spread, waitForCount, type Spread } from './measure';
import { startPollingPart, timeScale, type PollingSizes } from './polling';
import type { BenchStack } from './stack';

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
 * Per-ticket polling alone, at the scaled steady interval: each ticket is closed by the fulfiller at a random
 * moment over two intervals (so that closures fall anywhere in the poll cycle), then the order's final state is
 * awaited in the ledger.
 */
async function pollingClosure(stack: BenchStack, sizes: PollingSizes): Promise<ClosureFigures> {
  const { part } = await startPollingPart(stack, 'closure-polling', sizes);
  try {
    const tickets = part.ledger.ticketNumbers();
    stack.say(
      `closure (polling): closing ${tickets.size} tickets over ${(2 * sizes.intervalMs) / 1000} s...`,
    );
    const closedAt = new Map<string, number>();
    await Promise.all(
      [...tickets].map(async ([orderId, number]) => {
        await sleep(Math.random() * 2 * sizes.intervalMs);
        await stack.simulator.admin.act(number, 'close');
        closedAt.set(orderId, Date.now());
      }),
    );
    const ended = await waitForCount(() => part.ledger.count('Executed'), closedAt.size, {
      timeoutMs: 3 * sizes.intervalMs + sizes.timeoutMs,
    });
    const recorded = part.ledger.recordedAt('Executed');
    const latencies = [...closedAt].flatMap(([orderId, at]) => {
      const done = recorded.get(orderId);
      return done === undefined ? [] : [(done - at) / 1000];
    });
    const seconds = spread(latencies);
    const scale = timeScale(sizes);
    return {
      mode: 'polling',
      latencySeconds: {
        ...seconds,
        p50: round(seconds.p50, 2),
        p99: round(seconds.p99, 2),
        max: round(seconds.max, 2),
      },
      scaledMinutes: { p50: round((seconds.p50 * scale) / 60), p99: round((seconds.p99 * scale) / 60) },
      finished: ended.reached,
      closed: closedAt.size,
      note: `MaxInterval 1h scaled to ${sizes.intervalMs / 1000} s (x${round(scale)}), jitter 10%`,
    };
  } finally {
    await part.stop();
  }
}

/**
 * TO BE COMPLETED by the lead once the push receiver is merged: a part with TicketConnector.Push enabled and the
 * simulator's --notify-url pointed at it, then the same close-and-await as pollingClosure (with polling left at
 * its real, long interval, so that only push can explain a short latency).
 */
function pushClosure(): Promise<undefined> {
  return Promise.resolve(undefined);
}

/**
 * TO BE COMPLETED by the lead once the sweep is merged: a part with TicketConnector.Sweep enabled (Interval
 * scaled down) and the safety poll at a day, then the same close-and-await as pollingClosure.
 */
function sweepClosure(): Promise<undefined> {
  return Promise.resolve(undefined);
}
