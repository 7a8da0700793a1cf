import { z } from 'zod';
import { parseRetryAfter, type SecretRedactor } from '../servicenow/errors';
import type { HttpExchange } from './httpExchange';
import { IdentityManagerError } from './identityManagerError';

export type IdentityManagerAuth =
  | { readonly kind: 'none' }
  | { readonly kind: 'bearer'; readonly token: string }
  | {
      readonly kind: 'oauth';
      readonly tokenUrl: string;
      readonly clientId: string;
      readonly clientSecret: string;
      readonly scope?: string;
    };

/** Supplies the Authorization header; told when the API refused it so that the next one can be fresh. */
export interface Authorizer {
  authorization(): Promise<string | undefined>;
  /** True when asking again could give a different, valid header (worth one retry). */
  rejected(authorization: string | undefined): boolean;
}

const tokenAnswer = z.object({
  access_token: z.string().min(1),
  expires_in: z.coerce.number().positive().optional(),
});

const tokenRefusal = z.object({ error: z.string().max(100).optional() });

interface Token {
  readonly access: string;
  /** Shortly before the announced expiry, so a token never expires in flight; Infinity when none was given. */
  readonly renewAt: number;
}

const RENEW_BEFORE_EXPIRY_MS = 60_000;

/**
 * OAuth 2 client credentials: the token is cached until shortly before it expires and shared by concurrent
 * callers, with only one token request in flight. Without `expires_in` it is used until the API refuses it.
 */
class ClientCredentials implements Authorizer {
  private token: Token | undefined;
  private pending: Promise<Token> | undefined;

  constructor(
    private readonly credentials: Extract<IdentityManagerAuth, { kind: 'oauth' }>,
    private readonly exchange: HttpExchange,
    private readonly redactor: SecretRedactor,
    private readonly now: () => Date,
  ) {}

  async authorization(): Promise<string> {
    const token = this.token;
    if (token !== undefined && this.now().getTime() < token.renewAt) return `Bearer ${token.access}`;
    this.pending ??= this.request().finally(() => (this.pending = undefined));
    return `Bearer ${(await this.pending).access}`;
  }

  rejected(authorization: string | undefined): boolean {
    // Only the refused token is dropped: a concurrent caller may already have fetched a fresh one.
    if (this.token !== undefined && authorization === `Bearer ${this.token.access}`) this.token = undefined;
    return true;
  }

  private async request(): Promise<Token> {
    const { tokenUrl, clientId, clientSecret, scope } = this.credentials;
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: clientSecret,
    });
    if (scope !== undefined && scope !== '') form.set('scope', scope);
    const answer = await this.exchange.send({
      method: 'POST',
      url: tokenUrl,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: form.toString(),
      what: 'token request',
    });
    if (answer.status === 400 || answer.status === 401) {
      const refusal = tokenRefusal.safeParse(parseJson(answer.text));
      const code = refusal.success ? refusal.data.error : undefined;
      throw new IdentityManagerError({
        kind: 'auth',
        status: answer.status,
        message: `Identity Manager token request: the token endpoint refused the client credentials (HTTP ${answer.status}${code === undefined ? '' : `, ${this.redactor.redact(code)}`})`,
      });
    }
    if (answer.status !== 200) {
      throw new IdentityManagerError({
        kind: 'http',
        status: answer.status,
        retryAfterMs: parseRetryAfter(answer.headers['retry-after'], this.now()),
        message: `Identity Manager token request: the token endpoint answered HTTP ${answer.status}`,
      });
    }
    const parsed = tokenAnswer.safeParse(parseJson(answer.text));
    if (!parsed.success) {
      throw new IdentityManagerError({
        kind: 'auth',
        status: answer.status,
        message:
          'Identity Manager token request: the answer has no access_token (is OAuth2Url the token endpoint?)',
      });
    }
    const lifetimeMs = parsed.data.expires_in === undefined ? Infinity : parsed.data.expires_in * 1000;
    const token = {
      access: parsed.data.access_token,
      renewAt: this.now().getTime() + lifetimeMs - Math.min(RENEW_BEFORE_EXPIRY_MS, lifetimeMs / 2),
    };
    // The previous token stays redacted too: a call sent with it may still be failing.
    this.redactor.set('access-tokens', token.access, this.token?.access);
    this.token = token;
    return token;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function createAuthorizer(
  auth: IdentityManagerAuth,
  exchange: HttpExchange,
  redactor: SecretRedactor,
  now: () => Date,
): Authorizer {
  switch (auth.kind) {
    case 'none':
      return { authorization: async () => undefined, rejected: () => false };
    case 'bearer': {
      redactor.set('bearer-token', auth.token);
      const header = `Bearer ${auth.token}`;
      return { authorization: async () => header, rejected: () => false };
    }
    case 'oauth':
      redactor.set('client-secret', auth.clientSecret);
      return new ClientCredentials(auth, exchange, redactor, now);
  }
}
