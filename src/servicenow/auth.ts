import { z } from 'zod';
import { ServiceNowError, type SecretRedactor } from './errors';
import type { HttpTransport } from './transport';

export type ServiceNowCredentials =
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
  /** `login:password` in base64: as secret as the password, so it is redacted too. */
  readonly encodedCredentials: string;

  constructor(login: string, password: string) {
    this.encodedCredentials = Buffer.from(`${login}:${password}`, 'utf8').toString('base64');
  }

  async authorization(): Promise<string> {
    return `Basic ${this.encodedCredentials}`;
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

interface Token {
  readonly access: string;
  readonly refresh?: string;
  /** When to ask for a new one: shortly before expiry, so a token never expires in flight. */
  readonly renewAt: number;
}

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
  private token: Token | undefined;
  private pending: Promise<Token> | undefined;

  constructor(
    private readonly credentials: Extract<ServiceNowCredentials, { kind: 'oauth' }>,
    private readonly options: OAuthOptions,
  ) {}

  async authorization(signal?: AbortSignal): Promise<string> {
    const token = this.token;
    if (token !== undefined && this.options.now().getTime() < token.renewAt) return `Bearer ${token.access}`;
    // Not tied to one caller's signal: the token request is shared, and one caller giving up must not fail the rest.
    this.pending ??= this.renew().finally(() => (this.pending = undefined));
    const renewed = await abortable(this.pending, signal);
    return `Bearer ${renewed.access}`;
  }

  rejected(authorization: string): boolean {
    if (this.token !== undefined && authorization === `Bearer ${this.token.access}`) {
      this.token = { ...this.token, renewAt: 0 };
    }
    return true;
  }

  private async renew(): Promise<Token> {
    const refresh = this.token?.refresh;
    if (refresh !== undefined) {
      try {
        return await this.request({ grant_type: 'refresh_token', refresh_token: refresh });
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
    );
  }

  private async request(grant: Record<string, string>): Promise<Token> {
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
        serviceNowMessage: body.success ? redactor.redact(body.data.error_description) : undefined,
        detail: body.success ? redactor.redact(body.data.error) : undefined,
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
    const lifetimeMs = parsed.data.expires_in * 1000;
    const margin = Math.min(this.options.renewBeforeExpiryMs ?? 60_000, lifetimeMs / 2);
    const token: Token = {
      access: parsed.data.access_token,
      // A refresh grant may not return a new refresh token; the old one stays valid.
      refresh: parsed.data.refresh_token ?? this.token?.refresh,
      renewAt: now().getTime() + lifetimeMs - margin,
    };
    // The previous token stays redacted too: a call sent with it may still be failing.
    redactor.set('oauth-tokens', token.access, token.refresh, this.token?.access, this.token?.refresh);
    this.token = token;
    return token;
  }
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  const canceled = () =>
    new ServiceNowError({ kind: 'canceled', operation: 'token', reason: 'the request was canceled' });
  if (signal.aborted) return Promise.reject(canceled());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(canceled());
    signal.addEventListener('abort', onAbort, { once: true });
    void promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export function createAuthenticator(
  credentials: ServiceNowCredentials,
  options: OAuthOptions,
): Authenticator {
  if (credentials.kind === 'oauth') {
    options.redactor.set('credentials', credentials.password, credentials.clientSecret);
    return new OAuthAuthenticator(credentials, options);
  }
  const basic = new BasicAuthenticator(credentials.login, credentials.password);
  options.redactor.set('credentials', credentials.password, basic.encodedCredentials);
  return basic;
}
