import { z } from 'zod';
import { peerText } from '../http/peerText';
import type { SecretRedactor } from '../http/redaction';
import { parseRetryAfter } from '../http/retryAfter';
import { renewalTime, TokenCache, type CachedToken } from '../http/tokenCache';
import { answerJson } from '../http/exchange';
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

const RENEW_BEFORE_EXPIRY_MS = 60_000;

/**
 * OAuth 2 client credentials: the token is cached until shortly before it expires and shared by concurrent
 * callers, with only one token request in flight. Without `expires_in` it is used until the API refuses it.
 */
class ClientCredentials implements Authorizer {
  private readonly tokens: TokenCache<CachedToken>;

  constructor(
    private readonly credentials: Extract<IdentityManagerAuth, { kind: 'oauth' }>,
    private readonly exchange: HttpExchange,
    private readonly redactor: SecretRedactor,
    private readonly now: () => Date,
  ) {
    this.tokens = new TokenCache({
      fetch: () => this.request(),
      redactor,
      now,
    });
  }

  authorization(): Promise<string> {
    return this.tokens.authorization();
  }

  rejected(authorization: string | undefined): boolean {
    return this.tokens.rejected(authorization);
  }

  private async request(): Promise<CachedToken> {
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
      const refusal = tokenRefusal.safeParse(answerJson(answer));
      const code = refusal.success ? peerText(refusal.data.error, this.redactor) : undefined;
      throw new IdentityManagerError({
        kind: 'auth',
        status: answer.status,
        message: `Identity Manager token request: the token endpoint refused the client credentials (HTTP ${answer.status}${code === undefined ? '' : `, ${code}`})`,
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
    const parsed = tokenAnswer.safeParse(answerJson(answer));
    if (!parsed.success) {
      throw new IdentityManagerError({
        kind: 'auth',
        status: answer.status,
        message:
          'Identity Manager token request: the answer has no access_token (is OAuth2Url the token endpoint?)',
      });
    }
    return {
      access: parsed.data.access_token,
      renewAt: renewalTime(this.now(), parsed.data.expires_in, RENEW_BEFORE_EXPIRY_MS),
    };
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
