import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inspect } from 'node:util';
import { ApplicationFailure } from '@temporalio/common';
import { asMustHappenActivity } from '../../src/activities/failures';
import {
  createHttpAssignmentStore,
  type HttpAssignmentStoreOptions,
  type IdentityManagerAuth,
} from '../../src/assignments/httpStore';
import { IdentityManagerError } from '../../src/assignments/identityManagerError';
import { testTransition as transition } from '../helpers/assignments';
import { startFakeIdentityManager, type FakeIdentityManager } from '../helpers/fakeIdentityManager';
import {
  assertNoSecrets,
  httpStoreFixture as fixture,
  imFailure,
  TEMPLATE,
} from '../helpers/httpStoreFixture';
import { failureOf } from '../helpers/serviceNowErrors';

const BEARER = 'Bearer-Secret-9f8e7d6c5b4a';
const CLIENT_ID = 'connector-client';
const CLIENT_SECRET = 'Client-Secret-0a1b2c3d4e5f';

function oauth(im: FakeIdentityManager, secret = CLIENT_SECRET): IdentityManagerAuth {
  return {
    kind: 'oauth',
    tokenUrl: im.tokenUrl,
    clientId: CLIENT_ID,
    clientSecret: secret,
    scope: 'assignments.write',
  };
}

describe('HTTP assignment store: requests', () => {
  const { im, store } = fixture();

  test('sends the documented body, headers and method to the URL rendered with encoded values', async () => {
    const step = transition({
      orderId: 'order 1/é€',
      assignmentId: 'a/b?c#d&e',
      connection: 'Main.EU',
      state: 'Executed',
      detail: { closeCode: 'Solved', closedBy: 'fulfiller' },
    });
    assert.deepEqual(await store({ method: 'PUT' }).record(step), { applied: true });
    const [call] = im().received;
    assert.ok(call !== undefined);
    assert.equal(call.method, 'PUT');
    assert.equal(
      call.url,
      '/api/assignments/a%2Fb%3Fc%23d%26e/orders/order%201%2F%C3%A9%E2%82%AC?connection=Main.EU&state=Executed',
    );
    assert.equal(call.idempotencyKey, 'order%201%2F%C3%A9%E2%82%AC:Executed');
    assert.match(call.contentType ?? '', /^application\/json/);
    assert.equal(call.authorization, undefined);
    assert.deepEqual(call.body, {
      orderId: 'order 1/é€',
      assignmentId: 'a/b?c#d&e',
      connection: 'Main.EU',
      resourceType: 'SAP_Role',
      changeType: 'Added',
      provisioningState: 'Executed',
      provisioningStateCode: 8,
      isFinal: true,
      ticket: step.ticket,
      detail: { closeCode: 'Solved', closedBy: 'fulfiller' },
      at: '2024-05-01T10:00:00.000Z',
    });
  });

  test('Transmitted without ticket or detail sends code 2, isFinal false and explicit nulls', async () => {
    await store().record(transition({ orderId: 'order-2', ticket: undefined }));
    const body = im().received.at(-1)?.body as Record<string, unknown>;
    assert.equal(body.provisioningStateCode, 2);
    assert.equal(body.isFinal, false);
    assert.equal(body.ticket, null);
    assert.equal(body.detail, null);
  });

  test('a repeated transition is sent with the same key and answered as already applied', async () => {
    const repeated = store();
    const before = im().requests.length;
    assert.deepEqual(await repeated.record(transition({ orderId: 'order-3' })), { applied: true });
    assert.deepEqual(await repeated.record(transition({ orderId: 'order-3' })), { applied: false });
    assert.equal(im().requests.length - before, 2);
    assert.equal(im().received.filter((call) => call.idempotencyKey === 'order-3:Transmitted').length, 1);
  });

  test('an invalid transition is refused before anything is sent', async () => {
    const before = im().requests.length;
    const error = await imFailure(() => store().record(transition({ changeType: 'Renamed' as never })));
    assert.equal(error.kind, 'invalid-request');
    assert.equal(error.retryable, false);
    assert.match(error.message, /transition\.changeType/);
    assert.equal(im().requests.length, before);
  });

  test('a bad UrlTemplate or URL is refused when the store is created', () => {
    const refused = (options: Partial<HttpAssignmentStoreOptions>, pattern: RegExp) =>
      assert.throws(
        () => createHttpAssignmentStore({ urlTemplate: `${im().url}${TEMPLATE}`, ...options }),
        (error: unknown) =>
          error instanceof IdentityManagerError &&
          error.kind === 'invalid-request' &&
          pattern.test(error.message),
      );
    refused(
      { urlTemplate: `${im().url}/api/{assignmentId}/{ticketNumber}` },
      /unknown placeholder \{ticketNumber\}/,
    );
    refused({ urlTemplate: `${im().url}/api/{assignmentId` }, /unmatched/);
    refused({ urlTemplate: 'http://im.example.com/api/{assignmentId}' }, /must use https/);
    refused(
      { auth: { kind: 'oauth', tokenUrl: 'http://im.example.com/token', clientId: 'c', clientSecret: 's' } },
      /OAuth2Url/,
    );
  });
});

describe('HTTP assignment store: a server replaying answers to repeats', () => {
  const { im, store } = fixture({ repeat: 'replay' });

  test('a replayed 200 cannot be told from a first answer; the server still keeps the transition once', async () => {
    const replayed = store();
    assert.deepEqual(await replayed.record(transition()), { applied: true });
    assert.deepEqual(await replayed.record(transition()), { applied: true });
    assert.equal(im().received.length, 1);
  });
});

describe('HTTP assignment store: bearer token', () => {
  const { im, store } = fixture({ bearerToken: BEARER });

  test('sends the configured token', async () => {
    assert.deepEqual(await store({ auth: { kind: 'bearer', token: BEARER } }).record(transition()), {
      applied: true,
    });
    assert.equal(im().received[0]?.authorization, `Bearer ${BEARER}`);
  });

  test('a refused token is a non-retryable auth error, sent once and never shown', async () => {
    const wrong = `${BEARER}-revoked`;
    const before = im().requests.length;
    const error = await imFailure(() =>
      store({ auth: { kind: 'bearer', token: wrong } }).record(transition()),
    );
    assert.equal(error.kind, 'auth');
    assert.equal(error.status, 401);
    assert.equal(error.retryable, false);
    assert.equal(im().requests.length - before, 1);
    assertNoSecrets(error, [wrong]);
  });

  test('an error page echoing the Authorization header does not leak the token', async () => {
    im().failNext(1, {
      kind: 'status',
      status: 400,
      echoAuthorization: true,
      body: { message: 'Bad request' },
    });
    const error = await imFailure(() =>
      store({ auth: { kind: 'bearer', token: BEARER } }).record(transition({ orderId: 'echo' })),
    );
    assert.equal(error.kind, 'http');
    assert.match(error.message, /HTTP 400: Bad request/);
    assertNoSecrets(error, [BEARER]);
    assert.ok(!inspect(error, { depth: 20, showHidden: true }).includes(BEARER));
  });
});

describe('HTTP assignment store: OAuth client credentials', () => {
  const { im, store } = fixture({
    oauth: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, expiresIn: 3600 },
  });

  test('concurrent transitions share one token request, and later ones reuse the token', async () => {
    const shared = store({ auth: oauth(im()) });
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => shared.record(transition({ orderId: `concurrent-${i}` }))),
    );
    assert.ok(results.every((result) => result.applied));
    await shared.record(transition({ orderId: 'after' }));
    assert.equal(im().tokenRequests.length, 1);
    assert.deepEqual(im().tokenRequests[0], {
      grantType: 'client_credentials',
      clientId: CLIENT_ID,
      scope: 'assignments.write',
      secretMatched: true,
      contentType: 'application/x-www-form-urlencoded',
    });
    assert.match(im().received[0]?.authorization ?? '', /^Bearer fake-im-token-/);
  });

  test('the token is renewed shortly before it expires', async () => {
    let now = new Date('2024-05-01T10:00:00Z');
    const clocked = store({ auth: oauth(im()), now: () => now });
    const first = im().tokenRequests.length;
    await clocked.record(transition({ orderId: 'clock-1' }));
    now = new Date('2024-05-01T10:58:00Z');
    await clocked.record(transition({ orderId: 'clock-2' }));
    assert.equal(im().tokenRequests.length - first, 1, 'still valid for a while');
    now = new Date('2024-05-01T10:59:30Z');
    await clocked.record(transition({ orderId: 'clock-3' }));
    assert.equal(im().tokenRequests.length - first, 2, 'renewed within the last minute');
  });

  test('a 401 drops the token, and the call is repeated once with a new one', async () => {
    const refreshed = store({ auth: oauth(im()) });
    await refreshed.record(transition({ orderId: 'refresh-1' }));
    const tokens = im().tokenRequests.length;
    im().revokeTokens();
    assert.deepEqual(await refreshed.record(transition({ orderId: 'refresh-2' })), { applied: true });
    assert.equal(im().tokenRequests.length - tokens, 1);
  });

  test('a second 401 after the refresh is an auth error, without a third call', async () => {
    const refused = store({ auth: oauth(im()) });
    await refused.record(transition({ orderId: 'refused-1' }));
    const calls = im().requests.length;
    im().failNext(2, { kind: 'status', status: 401, echoAuthorization: true });
    const error = await imFailure(() => refused.record(transition({ orderId: 'refused-2' })));
    assert.equal(error.kind, 'auth');
    assert.equal(error.retryable, false);
    assert.equal(im().requests.length - calls, 2);
    const accessTokens = im()
      .requests.slice(calls)
      .map((call) => call.authorization?.replace('Bearer ', '') ?? '');
    assertNoSecrets(error, [CLIENT_SECRET, ...accessTokens.filter((token) => token !== '')]);
  });

  test('refused client credentials are an auth error that never shows the secret', async () => {
    const wrongSecret = `${CLIENT_SECRET}-old`;
    const error = await imFailure(() => store({ auth: oauth(im(), wrongSecret) }).record(transition()));
    assert.equal(error.kind, 'auth');
    assert.equal(error.status, 401);
    assert.equal(error.retryable, false);
    assert.match(error.message, /token endpoint refused the client credentials \(HTTP 401, invalid_client\)/);
    assertNoSecrets(error, [wrongSecret, CLIENT_SECRET]);
  });
});

describe('HTTP assignment store: failures and retries', () => {
  const { im, store } = fixture();

  test('503 twice, then success: retried within the same call', async () => {
    const calls = im().requests.length;
    im().failNext(2, { kind: 'status', status: 503 });
    assert.deepEqual(await store().record(transition({ orderId: 'flaky' })), { applied: true });
    assert.equal(im().requests.length - calls, 3);
  });

  test('503 on every try: a retryable http error after a bounded number of tries', async () => {
    const calls = im().requests.length;
    im().failNext(3, { kind: 'status', status: 503 });
    const error = await imFailure(() => store({ maxAttempts: 3 }).record(transition({ orderId: 'down' })));
    assert.equal(error.kind, 'http');
    assert.equal(error.status, 503);
    assert.equal(error.retryable, true);
    assert.equal(im().requests.length - calls, 3);
  });

  test('429 with a short Retry-After is waited for; a long one is handed back at once', async () => {
    let calls = im().requests.length;
    im().failNext(1, { kind: 'status', status: 429, headers: { 'Retry-After': '0' } });
    assert.deepEqual(await store().record(transition({ orderId: 'throttled' })), { applied: true });
    assert.equal(im().requests.length - calls, 2);

    calls = im().requests.length;
    im().failNext(1, { kind: 'status', status: 429, headers: { 'Retry-After': '3600' } });
    const error = await imFailure(() => store().record(transition({ orderId: 'throttled-long' })));
    assert.equal(error.status, 429);
    assert.equal(error.retryable, true);
    assert.equal(error.retryAfterMs, 3_600_000);
    assert.equal(im().requests.length - calls, 1);
  });

  test('a dropped connection is retried', async () => {
    const calls = im().requests.length;
    im().failNext(1, { kind: 'reset' });
    assert.deepEqual(await store().record(transition({ orderId: 'reset' })), { applied: true });
    assert.equal(im().requests.length - calls, 2);
  });

  test('400 is a non-retryable typed error with the server message, sent once', async () => {
    const calls = im().requests.length;
    im().failNext(1, { kind: 'status', status: 400, body: { message: 'Unknown assignment 42' } });
    const error = await imFailure(() => store().record(transition({ orderId: 'bad' })));
    assert.equal(error.kind, 'http');
    assert.equal(error.status, 400);
    assert.equal(error.retryable, false);
    assert.match(
      error.message,
      /Transmitted of assignment 42 \(order bad\): HTTP 400: Unknown assignment 42/,
    );
    assert.equal(im().requests.length - calls, 1);
    assert.deepEqual(JSON.parse(JSON.stringify(error)), {
      name: 'IdentityManagerError',
      kind: 'http',
      status: 400,
      retryable: false,
      message: error.message,
    });
  });

  test('a redirect is not followed, so the Authorization header never goes elsewhere', async () => {
    const calls = im().requests.length;
    im().failNext(1, { kind: 'status', status: 307, headers: { Location: `${im().url}/api/elsewhere` } });
    const error = await imFailure(() => store().record(transition({ orderId: 'moved' })));
    assert.equal(error.kind, 'http');
    assert.equal(error.status, 307);
    assert.equal(error.retryable, false);
    assert.match(error.message, /redirects are not followed/);
    assert.equal(im().requests.length - calls, 1);
  });

  test('no answer within the timeout is a retryable timeout error, left to the activity to retry', async () => {
    const calls = im().requests.length;
    im().failNext(1, { kind: 'hang' });
    const error = await imFailure(() => store({ timeoutMs: 200 }).record(transition({ orderId: 'hang' })));
    assert.equal(error.kind, 'timeout');
    assert.equal(error.retryable, true);
    assert.equal(im().requests.length - calls, 1);
  });

  test('nobody listening is a retryable network error that names only the origin', async () => {
    const closed = await startFakeIdentityManager();
    await closed.close();
    const unreachable = createHttpAssignmentStore({
      urlTemplate: `${closed.url}${TEMPLATE}`,
      retryDelayMs: 1,
      auth: { kind: 'bearer', token: BEARER },
    });
    const error = await imFailure(() => unreachable.record(transition()));
    await unreachable.close();
    assert.equal(error.kind, 'network');
    assert.equal(error.retryable, true);
    assert.match(error.message, new RegExp(`POST to ${closed.url} failed \\(ECONNREFUSED\\)`));
    assertNoSecrets(error, [BEARER]);
  });
});

describe('HTTP assignment store: never backwards', () => {
  const { im, store } = fixture();

  test('a Transmitted after a delivered final state is not sent, and answers applied: false', async () => {
    const guarded = store();
    for (const final of ['Executed', 'Verified', 'Errored'] as const) {
      const orderId = `final-${final}`;
      assert.deepEqual(await guarded.record(transition({ orderId, state: final })), { applied: true });
      const calls = im().requests.length;
      assert.deepEqual(await guarded.record(transition({ orderId, at: '2024-05-02T00:00:00.000Z' })), {
        applied: false,
      });
      assert.equal(im().requests.length, calls, `the Transmitted after ${final} was not sent`);
      assert.equal(im().stateOf(orderId), final);
    }
  });

  test('a final state Identity Manager already held (409) is remembered too', async () => {
    await store().record(transition({ orderId: 'final-twice', state: 'Errored' }));
    const other = store();
    assert.deepEqual(await other.record(transition({ orderId: 'final-twice', state: 'Errored' })), {
      applied: false,
    });
    const calls = im().requests.length;
    assert.deepEqual(await other.record(transition({ orderId: 'final-twice' })), { applied: false });
    assert.equal(im().requests.length, calls);
  });

  test('a final state that was refused is not remembered: the order is not final anywhere yet', async () => {
    const refusing = store();
    im().failNext(1, { kind: 'status', status: 400 });
    await imFailure(() => refusing.record(transition({ orderId: 'final-refused', state: 'Executed' })));
    assert.deepEqual(await refusing.record(transition({ orderId: 'final-refused' })), { applied: true });
    assert.equal(im().stateOf('final-refused'), 'Transmitted');
  });

  test('the memory is bounded and per process; past it, Identity Manager must refuse the step back', async () => {
    const small = store({ rememberedFinalOrders: 2 });
    await small.record(transition({ orderId: 'lru-1', state: 'Executed' }));
    await small.record(transition({ orderId: 'lru-2', state: 'Executed' }));
    let calls = im().requests.length;
    // A hit counts as a use: lru-2 is now the least recently used, and goes when lru-3 arrives.
    assert.deepEqual(await small.record(transition({ orderId: 'lru-1' })), { applied: false });
    await small.record(transition({ orderId: 'lru-3', state: 'Executed' }));
    assert.equal(im().requests.length - calls, 1, 'only the Executed of lru-3 was sent');

    calls = im().requests.length;
    assert.deepEqual(await small.record(transition({ orderId: 'lru-1' })), { applied: false });
    assert.deepEqual(await small.record(transition({ orderId: 'lru-3' })), { applied: false });
    assert.equal(im().requests.length, calls, 'lru-1 and lru-3 are still remembered');

    // Forgotten here, as in a restarted worker: sent, and refused by Identity Manager from `isFinal`.
    assert.deepEqual(await small.record(transition({ orderId: 'lru-2' })), { applied: false });
    assert.deepEqual(await store().record(transition({ orderId: 'lru-1' })), { applied: false });
    assert.equal(im().requests.length - calls, 2);
    assert.equal(im().stateOf('lru-1'), 'Executed');
    assert.equal(im().stateOf('lru-2'), 'Executed');
  });
});

describe('HTTP assignment store: refusals leave the order waiting', () => {
  const { im, store } = fixture({ bearerToken: BEARER });
  const auth = { kind: 'bearer', token: BEARER } as const;
  const long = `Order rejected for token ${BEARER}: ${'x'.repeat(1_000)}`;

  for (const status of [404, 400, 422, 302]) {
    test(`HTTP ${status} names the status, assignment and order, caps the text and shows no token`, async () => {
      const orderId = `refused-${status}`;
      const refused = store({ auth });
      const calls = im().requests.length;
      im().failNext(1, {
        kind: 'status',
        status,
        echoAuthorization: true,
        body: { message: long },
        ...(status === 302 && { headers: { Location: `${im().url}/login?token=${BEARER}` } }),
      });
      const error = await imFailure(() => refused.record(transition({ orderId, state: 'Executed' })));
      assert.equal(error.kind, 'http');
      assert.equal(error.status, status);
      assert.equal(error.retryable, false);
      assert.equal(im().requests.length - calls, 1, 'sent once: a refusal is not retried within the call');
      const prefix = `Identity Manager Executed of assignment 42 (order ${orderId}): HTTP ${status}`;
      assert.ok(error.message.startsWith(prefix), error.message);
      if (status === 302) assert.match(error.message, /redirects are not followed: check UrlTemplate/);
      const said = error.message.slice(error.message.indexOf(': Order rejected') + 2);
      assert.ok(said.startsWith('Order rejected for token [redacted]'), error.message);
      assert.ok(said.length <= 300 && said.endsWith('…'), `capped at 300: ${said.length}`);
      assertNoSecrets(error, [BEARER]);

      // The activity keeps retrying it (the order waits), and the failure shows no token either.
      const failure = await failureOf(ApplicationFailure, () =>
        asMustHappenActivity(() => Promise.reject(error)),
      );
      assert.equal(failure.nonRetryable, false);
      assert.equal(failure.type, 'IdentityManagerError');
      assertNoSecrets(failure, [BEARER]);

      // Once Identity Manager takes it, the same transition goes through.
      assert.deepEqual(await refused.record(transition({ orderId, state: 'Executed' })), { applied: true });
      assert.equal(im().stateOf(orderId), 'Executed');
    });
  }
});
