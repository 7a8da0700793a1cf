import { z } from 'zod';
import { peerText } from '../http/peerText';
import type { SecretRedactor } from '../http/redaction';
import { renewalTime, TokenCache, type CachedToken } from '../http/tokenCache';
import { ServiceNowError } from './errors';
import type { HttpTransport } from './transport';

export type ServiceNowCredentials =
  | FixedCredentials
  | {
      /** Credentials from credential stores: read again once when ServiceNow refuses them (a rotated secret). */
      readonly kind: 'stored';
      /** As the stores last gave them. */
      readonly current: () => FixedCredentials;
      /** Whether asking the stores again may happen now (re-reads are coalesced and spaced). */
      readonly canReread: () => boolean;
      readonly reread: () => Promise<boolean>;
    };

/** Credentials as written in the settings. */
export type FixedCredentials =
  | { readonly kind: 'basic'; readonly login: string; readonly password: string }
  | {
      readonly kind: 'oauth';
      readonly tokenUrl: string;
      readonly clientId: string;
      readonly clientSecret: string;
      /** With a login the `password` grant is used; without one, `client_credentials`. */
      readonly login?: string;
      readonly password?: string;
    };

/** Supplies the Authorization header; told when the API refused it so that the next one can be fresh. */
export interface Authenticator {
  authorization(signal?: AbortSignal): Promise<string>;
  /** Returns true when asking again could give a different, valid header (worth one retry). */
  rejected(authorization: string): boolean;
}

export class BasicAuthenticator implements Authenticator {
  private readonly header: string;

  constructor(login: string, password: string) {
    this.header = `Basic ${Buffer.from(`${login}:${password}`, 'utf8').toString('base64')}`;
  }

  async authorization(): Promise<string> {
    return this.header;
  }

  rejected(): boolean {
    return false;
  }
}

const tokenAnswer = z.object({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1).optional(),
  expires_in: z.coerce.number().positive(),
});

const tokenError = z.object({ error: z.string().optional(), error_description: z.string().optional() });

export interface OAuthOptions {
  readonly transport: HttpTransport;
  readonly redactor: SecretRedactor;
  readonly now: () => Date;
  /** Renew this long before the announced expiry (at most half the lifetime), so a token never expires in flight. */
  readonly renewBeforeExpiryMs?: number;
}

/**
 * OAuth 2 against `/oauth_token.do`: the token is cached until shortly before it expires, shared by concurrent
 * callers (only one token request in flight), renewed with the refresh token when there is one and, if that
 * is refused, with the original grant.
 */
export class OAuthAuthenticator implements Authenticator {
  private readonly tokens: TokenCache<CachedToken>;

  constructor(
    private readonly credentials: Extract<ServiceNowCredentials, { kind: 'oauth' }>,
    private readonly options: OAuthOptions,
  ) {
    this.tokens = new TokenCache({
      fetch: (previous) => this.renew(previous),
      redactor: options.redactor,
      now: options.now,
      canceled: () =>
        new ServiceNowError({ kind: 'canceled', operation: 'token', reason: 'the request was canceled' }),
    });
  }

  authorization(signal?: AbortSignal): Promise<string> {
    return this.tokens.authorization(signal);
  }

  rejected(authorization: string): boolean {
    return this.tokens.rejected(authorization);
  }

  private async renew(previous: CachedToken | undefined): Promise<CachedToken> {
    const refresh = previous?.refresh;
    if (refresh !== undefined) {
      try {
        return await this.request({ grant_type: 'refresh_token', refresh_token: refresh }, previous);
      } catch (error) {
        if (!(error instanceof ServiceNowError) || error.kind !== 'auth') throw error;
        // The refresh token expired or was revoked: start over with the original grant.
      }
    }
    const { login, password } = this.credentials;
    return this.request(
      login !== undefined && password !== undefined
        ? { grant_type: 'password', username: login, password }
        : { grant_type: 'client_credentials' },
      previous,
    );
  }

  private async request(
    grant: Record<string, string>,
    previous: CachedToken | undefined,
  ): Promise<CachedToken> {
    const { transport, redactor, now } = this.options;
    const call = { method: 'POST', url: this.credentials.tokenUrl, operation: 'token' } as const;
    const answer = await transport.send({
      ...call,
      form: { ...grant, client_id: this.credentials.clientId, client_secret: this.credentials.clientSecret },
    });
    if (answer.status === 400 || answer.status === 401) {
      const body = tokenError.safeParse(answer.json);
      throw new ServiceNowError({
        kind: 'auth',
        operation: 'token',
        status: answer.status,
        serviceNowMessage: body.success ? peerText(body.data.error_description, redactor) : undefined,
        detail: body.success ? peerText(body.data.error, redactor) : undefined,
        reason: `the token endpoint refused the ${grant.grant_type} grant`,
      });
    }
    if (answer.status !== 200) {
      throw transport.httpError(answer, call);
    }
    const parsed = tokenAnswer.safeParse(answer.json);
    if (!parsed.success) {
      throw new ServiceNowError({
        kind: 'invalid-response',
        operation: 'token',
        status: answer.status,
        reason: 'the token answer has no access_token or expires_in',
      });
    }
    return {
      access: parsed.data.access_token,
      // A refresh grant may not return a new refresh token; the old one stays valid.
      refresh: parsed.data.refresh_token ?? previous?.refresh,
      renewAt: renewalTime(now(), parsed.data.expires_in, this.options.renewBeforeExpiryMs ?? 60_000),
    };
  }
}

/**
 * Follows credentials kept in a store: when ServiceNow refuses them (401, or the token endpoint refusing the
 * grant), the stores are read once more and, if the credentials changed, the call is retried with the new ones.
 * Otherwise the stores are not asked: secrets are read at start, not per call.
 */
class StoredCredentialsAuthenticator implements Authenticator {
  private built: FixedCredentials;
  private inner: Authenticator;
  private pending: Promise<boolean> | undefined;

  constructor(
    private readonly source: Extract<ServiceNowCredentials, { kind: 'stored' }>,
    private readonly options: OAuthOptions,
  ) {
    this.built = source.current();
    this.inner = createAuthenticator(this.built, options);
  }

  async authorization(signal?: AbortSignal): Promise<string> {
    if (this.pending !== undefined) await this.pending;
    this.follow();
    try {
      return await this.inner.authorization(signal);
    } catch (error) {
      // The token endpoint refused the client secret or the password: they may have been rotated in the store.
      if (!(error instanceof ServiceNowError && error.kind === 'auth') || !this.source.canReread())
        throw error;
      await this.reread();
      if (!this.follow()) throw error;
      return this.inner.authorization(signal);
    }
  }

  rejected(authorization: string): boolean {
    // Another call's re-read already brought other credentials: retry with them, without asking the stores.
    if (this.follow()) return true;
    // OAuth first renews its token (which re-reads the stores if the token endpoint refuses the grant).
    if (this.inner.rejected(authorization)) return true;
    if (!this.source.canReread()) return false;
    void this.reread();
    return true;
  }

  private reread(): Promise<boolean> {
    this.pending ??= this.source.reread().finally(() => (this.pending = undefined));
    return this.pending;
  }

  /** Rebuilds the inner authenticator when the stores gave other credentials; true when they did. */
  private follow(): boolean {
    const fresh = this.source.current();
    if (JSON.stringify(fresh) === JSON.stringify(this.built)) return false;
    // A call sent with the old credentials may still be failing: keep them redacted too.
    const old = this.built;
    this.options.redactor.set(
      'previous-credentials',
      old.password,
      old.kind === 'oauth' ? old.clientSecret : `${old.login}:${old.password}`,
    );
    this.built = fresh;
    this.inner = createAuthenticator(fresh, this.options);
    return true;
  }
}

export function createAuthenticator(
  credentials: ServiceNowCredentials,
  options: OAuthOptions,
): Authenticator {
  if (credentials.kind === 'stored') return new StoredCredentialsAuthenticator(credentials, options);
  if (credentials.kind === 'oauth') {
    options.redactor.set('credentials', credentials.password, credentials.clientSecret);
    return new OAuthAuthenticator(credentials, options);
  }
  // `login:password` is what goes into the Basic header: its base64 form is redacted with it.
  options.redactor.set('credentials', credentials.password, `${credentials.login}:${credentials.password}`);
  return new BasicAuthenticator(credentials.login, credentials.password);
}
