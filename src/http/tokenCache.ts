import type { SecretRedactor } from './redaction';

export interface CachedToken {
  readonly access: string;
  readonly refresh?: string;
  /** When to ask for a new one (epoch ms): shortly before expiry, so that a token never expires in flight. */
  readonly renewAt: number;
}

export interface TokenCacheOptions<T extends CachedToken> {
  /** Asks the token endpoint; given the token it replaces, whose refresh token may still be good. */
  readonly fetch: (previous: T | undefined) => Promise<T>;
  readonly redactor: SecretRedactor;
  readonly now: () => Date;
  /** The error a caller gets when its own signal aborts the wait; by default the signal's reason. */
  readonly canceled?: () => Error;
}

/**
 * An OAuth access token shared by concurrent callers: cached until its renewal time, with only one token
 * request in flight however many callers need a new one. Issued tokens are redacted, the previous one too: a
 * call sent with it may still be failing.
 */
export class TokenCache<T extends CachedToken> {
  private token: T | undefined;
  private pending: Promise<T> | undefined;

  constructor(private readonly options: TokenCacheOptions<T>) {}

  /** `Bearer <token>`, from the cache or fresh. */
  async authorization(signal?: AbortSignal): Promise<string> {
    const token = this.token;
    if (token !== undefined && this.options.now().getTime() < token.renewAt) return `Bearer ${token.access}`;
    // Not tied to one caller's signal: the request is shared, and one caller giving up must not fail the rest.
    this.pending ??= this.renew().finally(() => (this.pending = undefined));
    const renewed = await this.abortable(this.pending, signal);
    return `Bearer ${renewed.access}`;
  }

  /**
   * The API refused `authorization`: its token is renewed on next use. Only that token: a concurrent caller may
   * already have fetched a fresh one. Always true: asking again gives a new token, worth one retry.
   */
  rejected(authorization: string | undefined): boolean {
    if (this.token !== undefined && authorization === `Bearer ${this.token.access}`) {
      this.token = { ...this.token, renewAt: 0 };
    }
    return true;
  }

  private async renew(): Promise<T> {
    const previous = this.token;
    const token = await this.options.fetch(previous);
    this.options.redactor.set(
      'oauth-tokens',
      token.access,
      token.refresh,
      previous?.access,
      previous?.refresh,
    );
    this.token = token;
    return token;
  }

  private abortable(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    if (signal === undefined) return promise;
    const canceled = (): Error =>
      this.options.canceled?.() ??
      (signal.reason instanceof Error ? signal.reason : new Error('the wait for a token was canceled'));
    if (signal.aborted) return Promise.reject(canceled());
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(canceled());
      signal.addEventListener('abort', onAbort, { once: true });
      void promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }
}

/**
 * When to renew a token that lives `expiresInSeconds` from `issuedAt` (never, when the endpoint gave no
 * lifetime): `renewBeforeExpiryMs` early, but at most half the lifetime early.
 */
export function renewalTime(
  issuedAt: Date,
  expiresInSeconds: number | undefined,
  renewBeforeExpiryMs: number,
): number {
  const lifetimeMs = expiresInSeconds === undefined ? Infinity : expiresInSeconds * 1000;
  return issuedAt.getTime() + lifetimeMs - Math.min(renewBeforeExpiryMs, lifetimeMs / 2);
}
