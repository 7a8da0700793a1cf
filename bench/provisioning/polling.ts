import { sleep } from './measure';
import { openTickets } from './openTickets';
import type { BenchStack, ConnectorPart } from './stack';

/** Open tickets polled per-order at a scaled-down steady interval: `intervalMs` stands for MaxInterval 1h. */
export interface PollingSizes {
  readonly tickets: number;
  readonly intervalMs: number;
  readonly concurrency: number;
  readonly timeoutMs: number;
  readonly maxCachedWorkflows: number;
}

/** One hour (the old default MaxInterval) over the scaled interval. */
export function timeScale(sizes: PollingSizes): number {
  return 3_600_000 / sizes.intervalMs;
}

/**
 * A worker of part `name` whose orders check their ticket every `intervalMs` (±10 % jitter) from the first check
 * on, so that the steady state starts at once, and `tickets` orders waiting on it, each past its first check.
 */
export async function startPollingPart(
  stack: BenchStack,
  name: string,
  sizes: PollingSizes,
): Promise<{ readonly part: ConnectorPart; readonly orderIds: readonly string[] }> {
  const every = `${sizes.intervalMs}ms`;
  const part = await stack.startConnectorPart(name, {
    polling: { FirstCheckAfter: every, MaxInterval: every, Jitter: 0.1 },
    maxCachedWorkflows: sizes.maxCachedWorkflows,
  });
  try {
    const orderIds = await openTickets(stack, name, part, sizes.tickets, sizes);
    await sleep(sizes.intervalMs * 1.2);
    return { part, orderIds };
  } catch (error) {
    await part.stop();
    throw error;
  }
}
