import { noMetrics, type ConnectorMetrics } from '../platform/metrics';

/**
 * How much a call matters when calls are scarce. `urgent`: what an order waits for (opening and canceling
 * tickets, password resets); `normal`: status checks; `background`: reminder notes, the sweep, exports.
 */
export type CallPriority = 'urgent' | 'normal' | 'background';

const RANK: Readonly<Record<CallPriority, number>> = { urgent: 0, normal: 1, background: 2 };

/** This worker's share of a connection's budget: the connection's budget divided by the workers sharing it. */
export interface CallBudgetShare {
  readonly callsPerSecond: number;
  readonly callsPerHour: number;
}

/** Time as the budget sees it; tests hand in a clock they move by hand. */
export interface BudgetClock {
  /** Epoch milliseconds. */
  now(): number;
  /** Calls `wake` after `ms`; returns what cancels it. */
  schedule(ms: number, wake: () => void): () => void;
}

export const systemClock: BudgetClock = {
  now: () => Date.now(),
  schedule: (ms, wake) => {
    const timer = setTimeout(wake, ms);
    return () => clearTimeout(timer);
  },
};

/** What ServiceNow said about the rate limit it applied, for the pause and the error an operator reads. */
export interface RateLimitPause {
  readonly delayMs: number;
  /** `X-RateLimit-Rule`: the sys_id of the rate-limit rule that matched. */
  readonly rule?: string;
  /** `X-RateLimit-Limit`: the requests per hour that rule allows. */
  readonly limit?: number;
}

/** The connection is paused for longer than a call may wait: the caller fails its attempt and retries later. */
export class RateLimitedError extends Error {
  constructor(
    readonly retryAfterMs: number,
    readonly pause: RateLimitPause,
  ) {
    super(`ServiceNow is rate limiting this connection for another ${Math.ceil(retryAfterMs / 1000)} s`);
    this.name = 'RateLimitedError';
  }
}

export interface CallBudgetOptions {
  /** The connection's identifier, for metrics. */
  readonly connection: string;
  /** No token limit when absent; ServiceNow's 429 pauses apply all the same. */
  readonly share?: CallBudgetShare;
  /** Share of the hourly bucket that background calls leave to the others. */
  readonly backgroundReserve?: number;
  /** A pause longer than this is not waited out: calls fail at once with RateLimitedError. */
  readonly maxPauseMs?: number;
  readonly metrics?: ConnectorMetrics;
  readonly clock?: BudgetClock;
}

export const DEFAULT_BACKGROUND_RESERVE = 0.1;
export const DEFAULT_MAX_PAUSE_MS = 30_000;
/** A 429 without any delay (a full request queue) pauses for 1 s, then 2, 4... up to this. */
const MAX_BACKOFF_MS = 60_000;
/** Rounding in the bucket arithmetic must not leave a call waiting for a billionth of a token. */
const EPSILON = 1e-9;

class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly capacity: number,
    private readonly perMs: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.last = now;
  }

  /** Milliseconds until the bucket holds `amount` tokens (0 when it does now). */
  msUntil(amount: number, now: number): number {
    this.tokens = Math.min(this.capacity, this.tokens + (now - this.last) * this.perMs);
    this.last = now;
    const missing = amount - this.tokens;
    return missing <= EPSILON ? 0 : Math.ceil(missing / this.perMs);
  }

  take(): void {
    this.tokens -= 1;
  }
}

interface Waiter {
  readonly rank: number;
  readonly priority: CallPriority;
  readonly since: number;
  /** Part of the wait was a 429 pause: reported as `rate-limited` rather than `budget`. */
  paused: boolean;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/**
 * One connection's call budget in this worker: token buckets for calls per second and per hour, a queue where
 * urgent calls go before normal ones and normal before background ones, a reserve of the hourly bucket that
 * background calls leave alone, and the pause ServiceNow asks for with a 429, which holds every call of the
 * connection. Calls wait for a token rather than fail; their signal bounds the wait.
 */
export class CallBudget {
  private readonly second: TokenBucket | undefined;
  private readonly hour: TokenBucket | undefined;
  private readonly reserve: number;
  private readonly maxPauseMs: number;
  private readonly metrics: ConnectorMetrics;
  private readonly clock: BudgetClock;
  private readonly queue: Waiter[] = [];
  private pausedUntil = 0;
  private pause: RateLimitPause = { delayMs: 0 };
  private bareRefusals = 0;
  private cancelWake: (() => void) | undefined;

  constructor(private readonly options: CallBudgetOptions) {
    this.clock = options.clock ?? systemClock;
    this.metrics = options.metrics ?? noMetrics;
    this.maxPauseMs = options.maxPauseMs ?? DEFAULT_MAX_PAUSE_MS;
    const now = this.clock.now();
    const { share } = options;
    if (share !== undefined) {
      this.second = new TokenBucket(Math.max(1, share.callsPerSecond), share.callsPerSecond / 1000, now);
      this.hour = new TokenBucket(Math.max(1, share.callsPerHour), share.callsPerHour / 3_600_000, now);
    }
    this.reserve = (options.backgroundReserve ?? DEFAULT_BACKGROUND_RESERVE) * (this.hour?.capacity ?? 0);
  }

  get connection(): string {
    return this.options.connection;
  }

  /**
   * Resolves when the call may be sent, having taken its token. Rejects with RateLimitedError when the connection
   * is paused for longer than a call may wait, and with `canceled()` when the signal aborts the wait.
   */
  acquire(priority: CallPriority, signal: AbortSignal | undefined, canceled: () => Error): Promise<void> {
    if (signal?.aborted === true) return Promise.reject(canceled());
    const now = this.clock.now();
    const left = this.pausedUntil - now;
    if (left > this.maxPauseMs) return Promise.reject(new RateLimitedError(left, this.pause));
    if (this.queue.length === 0 && left <= 0 && this.readyIn(priority, now) === 0) {
      this.take();
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const index = this.queue.indexOf(waiter);
        if (index >= 0) this.queue.splice(index, 1);
        reject(canceled());
        this.pump();
      };
      const done = () => signal?.removeEventListener('abort', onAbort);
      const waiter: Waiter = {
        rank: RANK[priority],
        priority,
        since: now,
        paused: false,
        resolve: () => {
          done();
          resolve();
        },
        reject: (error: Error) => {
          done();
          reject(error);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const after = this.queue.findIndex((queued) => queued.rank > waiter.rank);
      this.queue.splice(after < 0 ? this.queue.length : after, 0, waiter);
      this.pump();
    });
  }

  /**
   * ServiceNow refused a call with 429: every call of the connection waits until the delay it gave, or, when it
   * gave none (a full request queue), a delay that doubles with each refusal in a row. Returns the pause. Calls
   * already waiting fail at once when the pause is longer than they may wait.
   */
  rateLimited(given: Omit<RateLimitPause, 'delayMs'> & { readonly delayMs?: number }): RateLimitPause {
    const delayMs = given.delayMs ?? Math.min(1000 * 2 ** Math.min(this.bareRefusals++, 16), MAX_BACKOFF_MS);
    const pause = { ...given, delayMs };
    const until = this.clock.now() + delayMs;
    if (until > this.pausedUntil) {
      this.pausedUntil = until;
      this.pause = pause;
    }
    if (delayMs > this.maxPauseMs) {
      for (const waiter of this.queue.splice(0)) waiter.reject(new RateLimitedError(delayMs, pause));
    }
    this.pump();
    return pause;
  }

  /** An answer other than 429: the back-off for bare refusals starts over. */
  answered(): void {
    this.bareRefusals = 0;
  }

  /** Whether a call may wait out a pause this long instead of failing its attempt. */
  mayWait(pause: RateLimitPause): boolean {
    return pause.delayMs <= this.maxPauseMs;
  }

  /** Milliseconds until a call of this priority could take a token (0: now). */
  private readyIn(priority: CallPriority, now: number): number {
    if (this.second === undefined || this.hour === undefined) return 0;
    const need = priority === 'background' ? Math.min(this.hour.capacity, 1 + this.reserve) : 1;
    return Math.max(this.second.msUntil(1, now), this.hour.msUntil(need, now));
  }

  private take(): void {
    this.second?.take();
    this.hour?.take();
  }

  /** Lets the first waiters in priority order go while tokens last, then sleeps until the next one can. */
  private pump(): void {
    this.cancelWake?.();
    this.cancelWake = undefined;
    for (let head = this.queue[0]; head !== undefined; head = this.queue[0]) {
      const now = this.clock.now();
      const paused = this.pausedUntil - now;
      if (paused > 0) {
        for (const waiter of this.queue) waiter.paused = true;
        this.sleep(paused);
        return;
      }
      const wait = this.readyIn(head.priority, now);
      if (wait > 0) {
        this.sleep(wait);
        return;
      }
      this.take();
      this.queue.shift();
      this.metrics.budgetWait(
        this.options.connection,
        head.paused ? 'rate-limited' : 'budget',
        now - head.since,
      );
      head.resolve();
    }
  }

  private sleep(ms: number): void {
    this.cancelWake = this.clock.schedule(ms, () => {
      this.cancelWake = undefined;
      this.pump();
    });
  }
}
