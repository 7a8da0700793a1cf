import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { newSecret } from './random';
import type { Row, Store } from './store';

export interface AuthenticatedUser {
  readonly sysId: string;
  readonly userName: string;
}

export interface OAuthClient {
  readonly clientId: string;
  readonly clientSecret: string;
  /** user_name the `client_credentials` grant runs as; the grant is refused when undefined (the platform default). */
  readonly clientCredentialsUser: string | undefined;
}

export interface TokenResponse {
  readonly access_token: string;
  readonly refresh_token?: string;
  readonly scope: 'useraccount';
  readonly token_type: 'Bearer';
  readonly expires_in: number;
}

/** The platform's default lifetimes: 30 minutes for access tokens, 100 days for refresh tokens. */
const ACCESS_TOKEN_SECONDS = 1800;
const REFRESH_TOKEN_SECONDS = 100 * 24 * 3600;
/** Beyond this many live tokens of a kind the oldest are forgotten, so a client minting tokens in a loop cannot exhaust memory. */
const MAX_LIVE_TOKENS = 100_000;

interface IssuedToken {
  readonly userSysId: string;
  readonly clientId: string;
  readonly expiresAt: number;
}

/** Earlier releases stored unsalted digests; state files saved by them still load and log in. */
const LEGACY_DIGEST = /^sha256:([0-9a-f]{64})$/;
/** `ssha256:<salt>:<digest>`: a per-password random salt, so equal passwords never look alike at rest. */
const SALTED_DIGEST = /^ssha256:([0-9a-f]{32}):([0-9a-f]{64})$/;

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** How a usable password is stored in sys_user.user_password: salted, never the password itself. */
export function passwordDigest(password: string): string {
  const salt = randomBytes(16).toString('hex');
  return `ssha256:${salt}:${sha256Hex(`${salt}:${password}`)}`;
}

export function isPasswordDigest(value: string): boolean {
  return SALTED_DIGEST.test(value) || LEGACY_DIGEST.test(value);
}

/** Whether `password` is the one `stored` is the digest of; false for anything that is not a digest. */
export function passwordMatches(password: string, stored: string): boolean {
  const salted = SALTED_DIGEST.exec(stored);
  if (salted !== null) return sameSecret(sha256Hex(`${salted[1]}:${password}`), salted[2] ?? '');
  const legacy = LEGACY_DIGEST.exec(stored);
  return legacy !== null && sameSecret(sha256Hex(password), legacy[1] ?? '');
}

function remember(tokens: Map<string, IssuedToken>, token: string, issued: IssuedToken): void {
  tokens.set(token, issued);
  if (tokens.size > MAX_LIVE_TOKENS) {
    const oldest = tokens.keys().next();
    if (oldest.done !== true) tokens.delete(oldest.value);
  }
}

function sameSecret(given: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** Basic and Bearer authentication against sys_user, and the OAuth grants of `/oauth_token.do`. */
export class Authenticator {
  private accessTokens = new Map<string, IssuedToken>();
  private refreshTokens = new Map<string, IssuedToken>();

  constructor(
    private readonly store: Store,
    private readonly client: OAuthClient,
    private readonly now: () => Date,
  ) {}

  /** The caller named by an `Authorization` header, or undefined for missing, wrong or expired credentials. */
  authenticate(authorization: string | undefined): AuthenticatedUser | undefined {
    const [scheme, credentials] = (authorization ?? '').split(' ', 2);
    if (credentials === undefined) return undefined;
    if (scheme?.toLowerCase() === 'basic') {
      const decoded = Buffer.from(credentials, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      return colon < 0 ? undefined : this.login(decoded.slice(0, colon), decoded.slice(colon + 1));
    }
    if (scheme?.toLowerCase() === 'bearer') {
      const token = this.live(this.accessTokens, credentials);
      return token === undefined
        ? undefined
        : this.activeUser(this.store.table('sys_user').get(token.userSysId));
    }
    return undefined;
  }

  /**
   * Checks a login the way the platform does: an active, unlocked user whose stored password matches. A user who
   * must reset their password cannot use the API until someone changes it.
   */
  login(userName: string, password: string): AuthenticatedUser | undefined {
    const users = this.store.table('sys_user');
    const row = users.findBy('user_name', userName)[0];
    const user = this.activeUser(row);
    if (row === undefined || user === undefined) return undefined;
    if (users.read(row, 'password_needs_reset') === 'true') return undefined;
    const stored = users.read(row, 'user_password');
    return passwordMatches(password, stored) ? user : undefined;
  }

  /** Answers an OAuth token request (form fields), or undefined: every failure is the same `access_denied`. */
  grant(form: Readonly<Record<string, string | undefined>>): TokenResponse | undefined {
    const clientOk =
      sameSecret(form.client_id ?? '', this.client.clientId) &&
      sameSecret(form.client_secret ?? '', this.client.clientSecret);
    if (!clientOk) return undefined;
    switch (form.grant_type) {
      case 'password': {
        const user = this.login(form.username ?? '', form.password ?? '');
        return user && this.issue(user.sysId, true);
      }
      case 'refresh_token': {
        const token = this.live(this.refreshTokens, form.refresh_token ?? '');
        if (token === undefined || token.clientId !== this.client.clientId) return undefined;
        const user = this.activeUser(this.store.table('sys_user').get(token.userSysId));
        return user && { ...this.issue(user.sysId, false), refresh_token: form.refresh_token };
      }
      case 'client_credentials': {
        const userName = this.client.clientCredentialsUser;
        if (userName === undefined) return undefined;
        const user = this.activeUser(this.store.table('sys_user').findBy('user_name', userName)[0]);
        return user && this.issue(user.sysId, false);
      }
      default:
        return undefined;
    }
  }

  /** Forgets every issued token (a reset instance knows none of them). */
  clear(): void {
    this.accessTokens = new Map();
    this.refreshTokens = new Map();
  }

  private issue(userSysId: string, withRefreshToken: boolean): TokenResponse {
    const now = this.now().getTime();
    this.forgetExpired(now);
    const accessToken = newSecret(48);
    const issued = { userSysId, clientId: this.client.clientId };
    remember(this.accessTokens, accessToken, { ...issued, expiresAt: now + ACCESS_TOKEN_SECONDS * 1000 });
    const response: TokenResponse = {
      access_token: accessToken,
      scope: 'useraccount',
      token_type: 'Bearer',
      expires_in: ACCESS_TOKEN_SECONDS - 1,
    };
    if (!withRefreshToken) return response;
    const refreshToken = newSecret(48);
    remember(this.refreshTokens, refreshToken, { ...issued, expiresAt: now + REFRESH_TOKEN_SECONDS * 1000 });
    return { ...response, refresh_token: refreshToken };
  }

  private live(tokens: ReadonlyMap<string, IssuedToken>, token: string): IssuedToken | undefined {
    const issued = tokens.get(token);
    return issued !== undefined && issued.expiresAt > this.now().getTime() ? issued : undefined;
  }

  /** Keeps the token maps bounded by the number of live tokens. */
  private forgetExpired(now: number): void {
    for (const tokens of [this.accessTokens, this.refreshTokens]) {
      for (const [token, issued] of tokens) if (issued.expiresAt <= now) tokens.delete(token);
    }
  }

  private activeUser(row: Row | undefined): AuthenticatedUser | undefined {
    if (row === undefined) return undefined;
    const users = this.store.table('sys_user');
    if (users.read(row, 'active') !== 'true' || users.read(row, 'locked_out') === 'true') return undefined;
    return { sysId: users.read(row, 'sys_id'), userName: users.read(row, 'user_name') };
  }
}
