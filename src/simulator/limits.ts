import { Prng } from './random';

/** Faults injected into instance answers (never into the admin API). Rates are shares from 0 to 1. */
export interface Faults {
  /** Share of requests answered 500 or 503 with an error envelope. */
  readonly errorRate: number;
  /** Delay added before every answer. */
  readonly latencyMs: number;
  /** Share of requests whose connection is destroyed without an answer. */
  readonly dropRate: number;
  /** The next N requests are refused with 429 and `Retry-After: retryAfterSeconds`. */
  readonly burst429: number;
  readonly retryAfterSeconds: number;
  /**
   * Share of successful writes whose answer is lost after the record was committed (half 500, half dropped):
   * how "ServiceNow created the ticket but the client never heard" is reproduced.
   */
  readonly failAfterCommit: number;
}

export const NO_FAULTS: Faults = {
  errorRate: 0,
  latencyMs: 0,
  dropRate: 0,
  burst429: 0,
  retryAfterSeconds: 1,
  failAfterCommit: 0,
};

export type RequestFault =
  | { readonly kind: 'throttle'; readonly retryAfterSeconds: number }
  | { readonly kind: 'drop' }
  | { readonly kind: 'error'; readonly statusCode: 500 | 503 };

export type CommitFault = { readonly kind: 'drop' } | { readonly kind: 'error'; readonly statusCode: 500 };

/** Decides which requests a fault hits, from a seeded generator so that a run can be replayed. */
export class FaultInjector {
  private current: Faults;
  private random: Prng;

  constructor(
    private readonly initial: Faults,
    private readonly seed: number,
  ) {
    this.current = initial;
    this.random = new Prng(seed);
  }

  get faults(): Faults {
    return this.current;
  }

  update(changes: Partial<Faults>): Faults {
    this.current = { ...this.current, ...changes };
    return this.current;
  }

  /** Back to the startup faults, replaying the same random decisions. */
  reset(): void {
    this.current = this.initial;
    this.random = new Prng(this.seed);
  }

  /** The fault, if any, that hits an incoming request. */
  onRequest(): RequestFault | undefined {
    if (this.current.burst429 > 0) {
      this.current = { ...this.current, burst429: this.current.burst429 - 1 };
      return { kind: 'throttle', retryAfterSeconds: this.current.retryAfterSeconds };
    }
    if (this.random.chance(this.current.dropRate)) return { kind: 'drop' };
    if (this.random.chance(this.current.errorRate)) {
      return { kind: 'error', statusCode: this.random.chance(0.5) ? 500 : 503 };
    }
    return undefined;
  }

  /** The fault, if any, that loses the answer to a committed write. */
  afterCommit(): CommitFault | undefined {
    if (!this.random.chance(this.current.failAfterCommit)) return undefined;
    return this.random.chance(0.5) ? { kind: 'drop' } : { kind: 'error', statusCode: 500 };
  }
}

/** The sys_id sent in `X-RateLimit-Rule`, as the platform names the rule that matched. */
export const RATE_LIMIT_RULE_SYS_ID = '5f4a1e2bc0a8010e00a1b2c3d4e5f601';

export interface RateLimitVerdict {
  readonly allowed: boolean;
  /** Requests allowed per hour. */
  readonly limit: number;
  readonly headers: Readonly<Record<string, string>>;
}

/** A rate-limit rule counting each user's requests per clock hour, like the platform's hourly rules. */
export class RateLimiter {
  private windowStart = 0;
  private counts = new Map<string, number>();

  constructor(
    private readonly requestsPerHour: number,
    private readonly now: () => Date,
  ) {}

  count(userSysId: string): RateLimitVerdict {
    const now = this.now().getTime();
    const hour = 3600_000;
    const windowStart = Math.floor(now / hour) * hour;
    if (windowStart !== this.windowStart) {
      // A new window: forgetting the old counts keeps memory bounded by the users active this hour.
      this.windowStart = windowStart;
      this.counts = new Map();
    }
    const count = (this.counts.get(userSysId) ?? 0) + 1;
    this.counts.set(userSysId, count);
    const windowEnd = windowStart + hour;
    const headers: Record<string, string> = {
      'x-ratelimit-limit': String(this.requestsPerHour),
      'x-ratelimit-reset': String(windowEnd / 1000),
      'x-ratelimit-rule': RATE_LIMIT_RULE_SYS_ID,
    };
    const limit = this.requestsPerHour;
    if (count <= limit) return { allowed: true, limit, headers };
    return {
      allowed: false,
      limit,
      headers: { ...headers, 'retry-after': String(Math.max(1, Math.ceil((windowEnd - now) / 1000))) },
    };
  }

  reset(): void {
    this.counts = new Map();
  }
}

/** Refuses requests beyond `max` in flight, like a full inbound request queue (a bare 429). */
export class ConcurrencyGate {
  private inFlight = 0;

  constructor(private readonly max: number) {}

  tryEnter(): boolean {
    if (this.inFlight >= this.max) return false;
    this.inFlight++;
    return true;
  }

  leave(): void {
    this.inFlight--;
  }
}
