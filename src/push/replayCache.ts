/**
 * Signatures accepted recently, so that a captured request sent again inside the skew window is refused. A
 * signature covers its timestamp, so it is only worth remembering until that timestamp leaves the window: after
 * that the clock check refuses it anyway.
 *
 * Per process and in memory: receivers behind one load balancer do not share it, and a restart forgets it. That
 * is acceptable because a replay can do no more than a duplicate delivery, which ServiceNow makes anyway: the
 * order re-reads its own ticket. Bounded: when full, the oldest entry is dropped first.
 */
export class ReplayCache {
  /** signature -> when it may be forgotten (ms); Map keeps insertion order, oldest first. */
  private readonly entries = new Map<string, number>();

  constructor(private readonly maxEntries: number) {}

  /**
   * Remembers `signature` until `forgetAtMs`; false when it is already remembered at `nowMs` (a replay).
   */
  remember(signature: string, forgetAtMs: number, nowMs: number): boolean {
    const known = this.entries.get(signature);
    if (known !== undefined && known >= nowMs) return false;
    this.entries.delete(signature);
    this.dropExpired(nowMs);
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    this.entries.set(signature, forgetAtMs);
    return true;
  }

  /** A request that was accepted but not acted on (Temporal unreachable) may be sent again. */
  forget(signature: string): void {
    this.entries.delete(signature);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Entries arrive roughly in time order, so expired ones gather at the front. */
  private dropExpired(nowMs: number): void {
    for (const [signature, forgetAt] of this.entries) {
      if (forgetAt >= nowMs) return;
      this.entries.delete(signature);
    }
  }
}
