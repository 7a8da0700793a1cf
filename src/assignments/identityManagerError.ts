/**
 * The one error type the Identity Manager adapter throws. Its message is built here from what is safe to show
 * (operation, status, Identity Manager's own message after redaction); it never wraps the HTTP library's
 * error, whose request config holds the Authorization header and the client secret.
 */

export type IdentityManagerErrorKind =
  /** Identity Manager answered with an HTTP error status. */
  | 'http'
  /** No answer: connection refused, reset or dropped, DNS failure. */
  | 'network'
  | 'timeout'
  /** The credentials were refused, by the token endpoint or by the API itself. */
  | 'auth'
  /** Refused before anything was sent: a bad transition, URL template or URL. */
  | 'invalid-request'
  /**
   * A success or conflict status that does not prove the transition is held (a gateway's sign-in page, a 409
   * about something else): see acknowledgement.ts. Retried, as the page in the way is usually gone soon.
   */
  | 'unrecognised-answer';

export interface IdentityManagerErrorDetails {
  readonly kind: IdentityManagerErrorKind;
  readonly message: string;
  readonly status?: number;
  /** What Identity Manager asked for in `Retry-After`. */
  readonly retryAfterMs?: number;
}

const RETRYABLE_STATUS = new Set([408, 429]);

export class IdentityManagerError extends Error {
  readonly kind: IdentityManagerErrorKind;
  readonly status?: number;
  readonly retryAfterMs?: number;
  /** Network errors, timeouts, unrecognised answers, 408, 429 and 5xx: asking again later may succeed. */
  readonly retryable: boolean;

  constructor(details: IdentityManagerErrorDetails) {
    super(details.message);
    this.name = 'IdentityManagerError';
    this.kind = details.kind;
    this.status = details.status;
    this.retryAfterMs = details.retryAfterMs;
    this.retryable =
      details.kind === 'network' ||
      details.kind === 'timeout' ||
      details.kind === 'unrecognised-answer' ||
      (details.kind === 'http' &&
        details.status !== undefined &&
        (RETRYABLE_STATUS.has(details.status) || details.status >= 500));
  }

  /** For structured logs: `message` is not an own enumerable property of an Error. */
  toJSON(): IdentityManagerErrorDetails & { readonly name: string; readonly retryable: boolean } {
    return { ...this, message: this.message };
  }
}
