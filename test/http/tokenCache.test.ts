import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SecretRedactor } from '../../src/http/redaction';
import { renewalTime, TokenCache, type CachedToken } from '../../src/http/tokenCache';

/** A token endpoint whose answers the test releases by hand, and a clock it moves by hand. */
function setup() {
  let nowMs = Date.parse('2024-05-01T10:00:00Z');
  const requests: { previous: CachedToken | undefined; resolve: (token: CachedToken) => void }[] = [];
  const redactor = new SecretRedactor();
  const cache = new TokenCache<CachedToken>({
    fetch: (previous) => new Promise((resolve) => requests.push({ previous, resolve })),
    redactor,
    now: () => new Date(nowMs),
    canceled: () => new Error('canceled by the caller'),
  });
  const token = (access: string, lifetimeMs = 3_600_000): CachedToken => ({
    access,
    refresh: `${access}-refresh`,
    renewAt: nowMs + lifetimeMs,
  });
  return {
    cache,
    redactor,
    requests,
    token,
    advance: (ms: number) => (nowMs += ms),
  };
}

/** Lets pending promise callbacks run, so that a fetch a caller started is visible. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('TokenCache', () => {
  test('concurrent callers share one token request, and later callers reuse the token', async () => {
    const { cache, requests, token } = setup();
    const callers = [cache.authorization(), cache.authorization(), cache.authorization()];
    await settle();
    assert.equal(requests.length, 1);
    requests[0]?.resolve(token('first'));
    assert.deepEqual(await Promise.all(callers), ['Bearer first', 'Bearer first', 'Bearer first']);
    assert.equal(await cache.authorization(), 'Bearer first');
    assert.equal(requests.length, 1);
  });

  test('a token past its renewal time is renewed, given the previous one (for its refresh token)', async () => {
    const { cache, requests, token, advance, redactor } = setup();
    const first = cache.authorization();
    await settle();
    requests[0]?.resolve(token('first', 1_000));
    await first;
    advance(1_000);
    const second = cache.authorization();
    await settle();
    assert.equal(requests.length, 2);
    assert.equal(requests[1]?.previous?.refresh, 'first-refresh');
    requests[1]?.resolve(token('second'));
    assert.equal(await second, 'Bearer second');
    // Both tokens stay redacted: a call sent with the first one may still be failing.
    assert.equal(redactor.redact('first second first-refresh'), '[redacted] [redacted] [redacted]');
  });

  test('a refused token is renewed on next use; a refusal of an older token keeps the current one', async () => {
    const { cache, requests, token } = setup();
    const first = cache.authorization();
    await settle();
    requests[0]?.resolve(token('first'));
    await first;
    assert.equal(cache.rejected('Bearer stale'), true);
    assert.equal(await cache.authorization(), 'Bearer first', 'another token was refused: this one stays');
    assert.equal(cache.rejected('Bearer first'), true);
    const renewed = cache.authorization();
    await settle();
    assert.equal(requests.length, 2);
    requests[1]?.resolve(token('second'));
    assert.equal(await renewed, 'Bearer second');
  });

  test('a caller whose signal aborts gets the canceled error; the shared request goes on for the others', async () => {
    const { cache, requests, token } = setup();
    await assert.rejects(cache.authorization(AbortSignal.abort()), /canceled by the caller/);
    const controller = new AbortController();
    const impatient = cache.authorization(controller.signal);
    const patient = cache.authorization();
    await settle();
    controller.abort();
    await assert.rejects(impatient, /canceled by the caller/);
    assert.equal(requests.length, 1, 'one request, shared by all three callers');
    requests[0]?.resolve(token('shared'));
    assert.equal(await patient, 'Bearer shared');
  });

  test('a failed token request is not cached: the next caller asks again', async () => {
    let calls = 0;
    const cache = new TokenCache<CachedToken>({
      fetch: () => {
        calls += 1;
        return calls === 1
          ? Promise.reject(new Error('token endpoint down'))
          : Promise.resolve({ access: 'after-failure', renewAt: Infinity });
      },
      redactor: new SecretRedactor(),
      now: () => new Date(),
    });
    await assert.rejects(cache.authorization(), /token endpoint down/);
    assert.equal(await cache.authorization(), 'Bearer after-failure');
  });
});

describe('renewalTime', () => {
  const issued = new Date('2024-05-01T10:00:00Z');
  test('renews the given margin before expiry, at most half the lifetime early, never without a lifetime', () => {
    assert.equal(renewalTime(issued, 3600, 60_000), issued.getTime() + 3_540_000);
    assert.equal(renewalTime(issued, 60, 60_000), issued.getTime() + 30_000);
    assert.equal(renewalTime(issued, undefined, 60_000), Infinity);
  });
});
