import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * How a ticket-change notice is signed: the one definition shared by the push receiver, the simulator's
 * notifier and (in ES5) deploy/servicenow/ticket_changed_outbound.js.
 *
 * - `X-Snow-Timestamp`: Unix time in whole seconds when the notice was signed;
 * - `X-Snow-Signature`: `v1=` and the base64 HMAC-SHA256 of `<timestamp>.<raw body>`.
 *
 * The key is the UTF-8 bytes of the shared secret (TicketConnector.Push.Secret). Base64 because that is what
 * ServiceNow's script API gives: `new GlideCertificateEncryption().generateMac(key, 'HmacSHA256', data)` takes the
 * key base64-encoded (`GlideStringUtil.base64Encode(secret)`) and returns the MAC in base64. The timestamp is
 * signed with the body so that a captured notice cannot be replayed later under a fresh timestamp.
 */
export const TIMESTAMP_HEADER = 'X-Snow-Timestamp';
export const SIGNATURE_HEADER = 'X-Snow-Signature';
const VERSION_PREFIX = 'v1=';
/** Ten digits last until the year 2286; more would be no Unix time in seconds. */
const TIMESTAMP = /^\d{1,11}$/;

/** `v1=<base64 HMAC-SHA256 over "<timestamp>.<body>">`. */
export function signature(secret: string, timestampSeconds: number, body: string | Buffer): string {
  const mac = createHmac('sha256', Buffer.from(secret, 'utf8'))
    .update(`${timestampSeconds}.`, 'utf8')
    .update(body)
    .digest('base64');
  return `${VERSION_PREFIX}${mac}`;
}

/** The two headers for a notice signed at `now`. */
export function signedHeaders(secret: string, body: string | Buffer, now: Date): Record<string, string> {
  const timestamp = Math.floor(now.getTime() / 1000);
  return {
    [TIMESTAMP_HEADER]: String(timestamp),
    [SIGNATURE_HEADER]: signature(secret, timestamp, body),
  };
}

/**
 * Equal contents, compared in constant time for equal lengths; unequal lengths are simply unequal (the length of
 * a valid signature is no secret, and timingSafeEqual throws on them).
 */
export function constantTimeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Why a request's signature is refused; each kind is also the push metric's outcome. */
export type SignatureProblem = 'unsigned' | 'bad-signature' | 'stale' | 'future';

export type SignatureCheck =
  | { readonly ok: true; readonly timestampMs: number; readonly signature: string }
  | { readonly ok: false; readonly problem: SignatureProblem };

export interface SignedRequest {
  /** The header values as received (absent, or repeated headers as arrays, are refused). */
  readonly timestamp: string | string[] | undefined;
  readonly signature: string | string[] | undefined;
  /** The body exactly as received: what was signed. */
  readonly body: Buffer;
}

/**
 * Checks a request against the scheme: both headers present, the signature valid for this body and timestamp,
 * and the timestamp no further than `maxSkewMs` from `now` either way. The signature is checked before the
 * clock, so that only a holder of the secret learns that a timestamp was out of range.
 */
export function checkSignature(
  request: SignedRequest,
  secret: string,
  now: Date,
  maxSkewMs: number,
): SignatureCheck {
  const { timestamp, signature: given } = request;
  if (typeof timestamp !== 'string' || typeof given !== 'string') return { ok: false, problem: 'unsigned' };
  if (!TIMESTAMP.test(timestamp)) return { ok: false, problem: 'bad-signature' };
  const expected = signature(secret, Number(timestamp), request.body);
  if (!constantTimeEqual(Buffer.from(given.trim(), 'utf8'), Buffer.from(expected, 'utf8'))) {
    return { ok: false, problem: 'bad-signature' };
  }
  const timestampMs = Number(timestamp) * 1000;
  const skew = timestampMs - now.getTime();
  if (skew < -maxSkewMs) return { ok: false, problem: 'stale' };
  if (skew > maxSkewMs) return { ok: false, problem: 'future' };
  return { ok: true, timestampMs, signature: expected };
}
