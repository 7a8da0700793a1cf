import { waitForCount } from './measure';
import { startOrders } from './orders';
import type { BenchStack, ConnectorPart } from './stack';

export interface OpeningSizes {
  readonly concurrency: number;
  /** Bounds the starts and the wait for the tickets. */
  readonly timeoutMs: number;
}

/**
 * Starts orders `first` to `first + count - 1` of part `name` on its worker and waits until each has its ticket
 * (Transmitted in the part's ledger); fails when some are still without one after `timeoutMs`.
 */
export async function openTickets(
  stack: BenchStack,
  name: string,
  part: ConnectorPart,
  count: number,
  sizes: OpeningSizes,
  first = 0,
): Promise<readonly string[]> {
  const orderIds = await startOrders(stack.client, name, part.taskQueue, count, {
    concurrency: sizes.concurrency,
    first,
  });
  const opened = await waitForCount(() => part.ledger.count('Transmitted'), first + count, {
    timeoutMs: sizes.timeoutMs,
  });
  if (opened.timedOut) throw new Error(`${name}: only ${opened.reached - first} of ${count} tickets opened`);
  return orderIds;
}
