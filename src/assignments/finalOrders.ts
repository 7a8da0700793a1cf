/**
 * The orders whose final state (Executed, Verified, Errored) this process has delivered, so that a Transmitted
 * arriving later (a stale retry, a replayed activity) is not sent and cannot move the assignment backwards.
 *
 * Bounded and per process: it holds the most recently used `capacity` order ids (least recently used go
 * first), and starts empty on every start and on every worker. It is a first line of defence only; Identity
 * Manager must itself ignore a Transmitted for an order it already holds a final state for (the message's
 * `isFinal`), or whose `at` is older than that final state's.
 */
export class FinalOrders {
  private readonly orders = new Map<string, true>();

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.orders.size;
  }

  /** True when a final state of `orderId` was delivered; counts as a use. */
  has(orderId: string): boolean {
    if (!this.orders.has(orderId)) return false;
    this.touch(orderId);
    return true;
  }

  add(orderId: string): void {
    this.touch(orderId);
    while (this.orders.size > this.capacity) {
      const oldest = this.orders.keys().next();
      if (oldest.done === true) break;
      this.orders.delete(oldest.value);
    }
  }

  /** Maps iterate in insertion order: re-inserting moves the id to the newest end. */
  private touch(orderId: string): void {
    this.orders.delete(orderId);
    this.orders.set(orderId, true);
  }
}
