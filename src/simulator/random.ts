import { randomBytes } from 'node:crypto';

/**
 * A small seedable generator (mulberry32) for everything a test must be able to replay: which requests a
 * fault hits, which notifications are duplicated. Secrets and sys_ids never come from it.
 */
export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  chance(probability: number): boolean {
    return probability > 0 && this.next() < probability;
  }
}

export function randomSeed(): number {
  return randomBytes(4).readUInt32LE(0);
}

const SYS_IDS_PER_POOL = 4096;
let sysIdPool = Buffer.alloc(0);
let sysIdOffset = 0;

/** 32 lowercase hex characters, like a ServiceNow sys_id. Drawn from a pooled buffer: seeding calls it a million times. */
export function newSysId(): string {
  if (sysIdOffset >= sysIdPool.length) {
    sysIdPool = randomBytes(16 * SYS_IDS_PER_POOL);
    sysIdOffset = 0;
  }
  const id = sysIdPool.toString('hex', sysIdOffset, sysIdOffset + 16);
  sysIdOffset += 16;
  return id;
}

export function newSecret(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}
