import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Who may use the codec server: callers that present its token, as `Authorization: Bearer <token>` (scripts, the
 * `temporal` CLI, a UI that passes its own access token is out of scope: see the README) or through the session
 * cookie `/login` sets for a browser. The Web UI's fetch cannot add a header of ours, but with its "include
 * cross-origin credentials" setting it sends cookies to a same-site codec server.
 *
 * The cookie holds no token: `<expiry seconds>.<HMAC-SHA256(token, expiry)>`, so it cannot be turned back into
 * the token, lapses on its own, and every session ends when the token changes. Nothing is kept server-side, so
 * replicas behind a load balancer accept each other's sessions.
 */
export const SESSION_COOKIE = 'snow-codec-session';
export const DEFAULT_SESSION_SECONDS = 8 * 3600;

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Constant-time comparison over digests, so neither the length nor a prefix of the token leaks through timing. */
export function sameToken(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

function signature(token: string, expiresAt: number): string {
  return createHmac('sha256', token).update(`codec-session:${expiresAt}`).digest('base64url');
}

export class CodecAuth {
  constructor(
    private readonly token: string,
    private readonly sessionSeconds: number = DEFAULT_SESSION_SECONDS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether the request carries the token as a bearer header or a live session cookie. */
  authorised(headers: { authorization?: string; cookie?: string }): boolean {
    return this.bearer(headers.authorization) || this.session(headers.cookie);
  }

  private bearer(authorization: string | undefined): boolean {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    return match !== null && sameToken(match[1] as string, this.token);
  }

  private session(cookieHeader: string | undefined): boolean {
    const value = cookieValue(cookieHeader, SESSION_COOKIE);
    const match = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(value ?? '');
    if (match === null) return false;
    const expiresAt = Number(match[1]);
    if (expiresAt * 1000 <= this.now()) return false;
    return sameToken(match[2] as string, signature(this.token, expiresAt));
  }

  checkToken(given: string): boolean {
    return sameToken(given.trim(), this.token);
  }

  /**
   * The `Set-Cookie` value of a new session. HttpOnly: page scripts never see it. SameSite=Strict: sent only by
   * pages of the same site (localhost:8233 and localhost:8234 are one site; ports do not count), which keeps
   * other sites' pages from spending it. Secure when the codec server is reached over https.
   */
  sessionCookie(secure: boolean): string {
    const expiresAt = Math.floor(this.now() / 1000) + this.sessionSeconds;
    const value = `${expiresAt}.${signature(this.token, expiresAt)}`;
    return cookie(value, this.sessionSeconds, secure);
  }

  static clearedCookie(secure: boolean): string {
    return cookie('', 0, secure);
  }
}

function cookie(value: string, maxAge: number, secure: boolean): string {
  return [
    `${SESSION_COOKIE}=${value}`,
    'Path=/',
    `Max-Age=${maxAge}`,
    'HttpOnly',
    'SameSite=Strict',
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
