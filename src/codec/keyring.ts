import { createHmac } from 'node:crypto';

/**
 * The AES-256 keys that protect workflow payloads, by id. Every encrypted payload names the id of the key that
 * sealed it, so a new key can become active while the old ones stay here to open older histories.
 */
export interface PayloadKey {
  readonly id: string;
  readonly key: Buffer;
}

export class Keyring {
  private readonly keys: ReadonlyMap<string, Buffer>;

  constructor(
    keys: readonly PayloadKey[],
    /** The key new payloads are sealed with; undefined when this side may only open payloads. */
    readonly activeId: string | undefined,
  ) {
    this.keys = new Map(keys.map((entry) => [entry.id, entry.key]));
    if (activeId !== undefined && !this.keys.has(activeId)) {
      throw new Error(`the active payload key "${activeId}" is not among the keys`);
    }
  }

  /** The key new payloads are sealed with, or undefined when none is active. */
  active(): PayloadKey | undefined {
    if (this.activeId === undefined) return undefined;
    const key = this.keys.get(this.activeId);
    return key === undefined ? undefined : { id: this.activeId, key };
  }

  find(id: string): Buffer | undefined {
    return this.keys.get(id);
  }

  get ids(): readonly string[] {
    return [...this.keys.keys()];
  }
}

/**
 * A digest of `text` that only holders of `key` can compute or check: HMAC-SHA256 (hex) under a key derived from
 * `key` for `purpose`, so the payload key itself never signs anything. For values that must be told apart in
 * ids stored in clear (a password, a user) without revealing them, not even to a guess checked against a plain hash.
 */
export function keyedDigest(key: Buffer, purpose: string, text: string): string {
  const derived = createHmac('sha256', key).update(purpose).digest();
  return createHmac('sha256', derived).update(text).digest('hex');
}
