import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  checkSignature,
  constantTimeEqual,
  signature,
  signedHeaders,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
} from '../../src/push/signature';

const SECRET = 'Push-secret-0123456789-abcdefghij';
const BODY =
  '{"table":"incident","sys_id":"0123456789abcdef0123456789abcdef","number":"INC0010001","sys_mod_count":"3"}';
const AT = new Date('2026-12-05T12:00:00Z');
const SKEW_MS = 300_000;

/** The vector, computed here from the scheme's text rather than by the module under test. */
function expectedSignature(secret: string, timestamp: string, body: string): string {
  return `v1=${createHmac('sha256', Buffer.from(secret, 'utf8')).update(`${timestamp}.${body}`, 'utf8').digest('base64')}`;
}

function check(headers: Record<string, string | undefined>, body = BODY, now = AT, secret = SECRET) {
  return checkSignature(
    { timestamp: headers[TIMESTAMP_HEADER], signature: headers[SIGNATURE_HEADER], body: Buffer.from(body) },
    secret,
    now,
    SKEW_MS,
  );
}

describe('push signature', () => {
  test('signs "<unix seconds>.<body>" with HMAC-SHA256, base64, version v1', () => {
    const headers = signedHeaders(SECRET, BODY, AT);
    assert.deepEqual(headers, {
      [TIMESTAMP_HEADER]: '1796472000',
      [SIGNATURE_HEADER]: expectedSignature(SECRET, '1796472000', BODY),
    });
    // A fixed vector (from `openssl dgst -sha256 -hmac`), to check the ES5 business rule against by hand.
    assert.equal(
      signature('k'.repeat(32), 1700000000, '{"a":"b"}'),
      'v1=EFEIrjMZ65G4r10OLlhe8GnGYeuVM/3Uqvid8neiUaI=',
    );
  });

  test('a signed request passes within the skew either way, and names its timestamp', () => {
    const headers = signedHeaders(SECRET, BODY, AT);
    for (const offsetMs of [-SKEW_MS, 0, SKEW_MS]) {
      const result = check(headers, BODY, new Date(AT.getTime() + offsetMs));
      assert.equal(result.ok, true, `${offsetMs}`);
      assert.equal(result.ok && result.timestampMs, AT.getTime());
    }
  });

  test('unsigned, tampered, wrongly keyed, stale and future requests are refused with their reason', () => {
    const headers = signedHeaders(SECRET, BODY, AT);
    assert.deepEqual(check({}), { ok: false, problem: 'unsigned' });
    assert.deepEqual(check({ [TIMESTAMP_HEADER]: headers[TIMESTAMP_HEADER] }), {
      ok: false,
      problem: 'unsigned',
    });
    assert.deepEqual(check(headers, BODY.replace('"3"', '"4"')), { ok: false, problem: 'bad-signature' });
    assert.deepEqual(check(headers, BODY, AT, `${SECRET}x`), { ok: false, problem: 'bad-signature' });
    assert.deepEqual(
      check({ ...headers, [TIMESTAMP_HEADER]: String(Number(headers[TIMESTAMP_HEADER]) + 1) }),
      {
        ok: false,
        problem: 'bad-signature',
      },
    );
    assert.deepEqual(check({ ...headers, [TIMESTAMP_HEADER]: 'soon' }), {
      ok: false,
      problem: 'bad-signature',
    });
    assert.deepEqual(check({ ...headers, [SIGNATURE_HEADER]: 'v1=short' }), {
      ok: false,
      problem: 'bad-signature',
    });
    assert.deepEqual(check(headers, BODY, new Date(AT.getTime() + SKEW_MS + 1000)), {
      ok: false,
      problem: 'stale',
    });
    assert.deepEqual(check(headers, BODY, new Date(AT.getTime() - SKEW_MS - 1000)), {
      ok: false,
      problem: 'future',
    });
  });

  test('repeated headers are no signature', () => {
    const headers = signedHeaders(SECRET, BODY, AT);
    const result = checkSignature(
      {
        timestamp: [headers[TIMESTAMP_HEADER] ?? '', headers[TIMESTAMP_HEADER] ?? ''],
        signature: headers[SIGNATURE_HEADER],
        body: Buffer.from(BODY),
      },
      SECRET,
      AT,
      SKEW_MS,
    );
    assert.deepEqual(result, { ok: false, problem: 'unsigned' });
  });

  test('the constant-time comparison answers false for unequal lengths instead of throwing', () => {
    assert.equal(constantTimeEqual(Buffer.from('abc'), Buffer.from('abc')), true);
    assert.equal(constantTimeEqual(Buffer.from('abc'), Buffer.from('abd')), false);
    assert.equal(constantTimeEqual(Buffer.from('abc'), Buffer.from('abcd')), false);
    assert.equal(constantTimeEqual(Buffer.alloc(0), Buffer.from('a')), false);
  });
});
