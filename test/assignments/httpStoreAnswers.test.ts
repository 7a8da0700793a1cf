/**
 * Only the answers src/assignments/acknowledgement.ts documents count as recorded: a gateway's page, an empty
 * or foreign success body, a conflict about something else are retryable failures that say what came back.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { asMustHappenActivity } from '../../src/activities/failures';
import { testTransition as transition } from '../helpers/assignments';
import { assertNoSecrets, httpStoreFixture, imFailure } from '../helpers/httpStoreFixture';
import { failureOf } from '../helpers/serviceNowErrors';

const BEARER = 'Answers+Bearer/Secret&<7d6c>';
const auth = { kind: 'bearer', token: BEARER } as const;

function signInPage(echo: string): string {
  return `<!DOCTYPE html>\n<html><head><title>Sign in</title></head>\n<body><form action="/login">${echo}${'<p>Please sign in to continue.</p>'.repeat(200)}</form></body></html>`;
}

describe('HTTP assignment store: what counts as recorded', () => {
  const { im, store } = httpStoreFixture({ bearerToken: BEARER });

  test('a 200 text/html sign-in page is a retryable failure naming status, content type and an excerpt, never applied', async () => {
    const recorder = store({ auth, maxAttempts: 1 });
    const orderId = 'html-200';
    const echoes = [BEARER, encodeURIComponent(BEARER), Buffer.from(BEARER).toString('base64')];
    im().failNext(1, {
      kind: 'raw',
      status: 200,
      contentType: 'text/html; charset=utf-8',
      body: signInPage(`<input type="hidden" value="${echoes.join(' ')}">`),
    });
    const error = await imFailure(() => recorder.record(transition({ orderId, state: 'Executed' })));
    assert.equal(error.kind, 'unrecognised-answer');
    assert.equal(error.status, 200);
    assert.equal(error.retryable, true);
    assert.match(error.message, /^Identity Manager Executed of assignment 42 \(order html-200\): HTTP 200/);
    assert.match(error.message, /text\/html; charset=utf-8/);
    assert.match(error.message, /not counted as recorded: <!DOCTYPE html> <html><head><title>Sign in/);
    assert.ok(error.message.length < 1_000, `excerpt capped: ${error.message.length}`);
    assertNoSecrets(error, [...echoes, BEARER.replace(/&/g, '&amp;')]);
    assert.equal(im().stateOf(orderId), undefined, 'Identity Manager never got it');

    const failure = await failureOf(ApplicationFailure, () =>
      asMustHappenActivity(() => Promise.reject(error)),
    );
    assert.equal(failure.nonRetryable, false);

    // Once the gateway lets the call through, the transition is recorded.
    assert.deepEqual(await recorder.record(transition({ orderId, state: 'Executed' })), { applied: true });
    assert.equal(im().stateOf(orderId), 'Executed');
  });

  test('the page is retried within the call before it is handed to the activity', async () => {
    const recorder = store({ auth, maxAttempts: 3 });
    const calls = im().requests.length;
    im().failNext(1, { kind: 'raw', status: 200, contentType: 'text/html', body: signInPage('') });
    const result = await recorder.record(transition({ orderId: 'html-then-json' }));
    assert.deepEqual(result, { applied: true });
    assert.equal(im().requests.length - calls, 2);
  });

  const unproven: Record<string, { status: number; contentType?: string; body: string }> = {
    'an empty 200': { status: 200, body: '' },
    'JSON of another shape': { status: 200, contentType: 'application/json', body: '{"status":"queued"}' },
    'a JSON array': { status: 201, contentType: 'application/json', body: '[]' },
    'a 409 about something else': {
      status: 409,
      contentType: 'application/json',
      body: '{"message":"the assignment is locked by another edit"}',
    },
    'a 409 without a body': { status: 409, body: '' },
  };
  for (const [name, answer] of Object.entries(unproven)) {
    test(`${name} is a retryable failure, not recorded`, async () => {
      const recorder = store({ auth, maxAttempts: 1 });
      const orderId = `unproven-${answer.status}-${name.length}`;
      im().failNext(1, { kind: 'raw', ...answer });
      const error = await imFailure(() => recorder.record(transition({ orderId, state: 'Verified' })));
      assert.equal(error.kind, 'unrecognised-answer');
      assert.equal(error.status, answer.status);
      assert.equal(error.retryable, true);
      const expected =
        answer.status === 409 ? /"already-applied"\} or \{"status": "superseded"\}/ : /"applied"\}/;
      assert.match(error.message, expected);
      if (name === 'a 409 about something else') assert.match(error.message, /locked by another edit/);
      // Not remembered as final: the order is not final anywhere yet, so its Transmitted still goes out.
      assert.deepEqual(await recorder.record(transition({ orderId })), { applied: true });
    });
  }

  test('an empty 204 counts as applied', async () => {
    im().failNext(1, { kind: 'raw', status: 204, body: '' });
    assert.deepEqual(await store({ auth }).record(transition({ orderId: 'no-content' })), { applied: true });
  });

  test('a 409 saying "already-applied" or "superseded" counts as already there', async () => {
    const recorder = store({ auth, maxAttempts: 1 });
    for (const status of ['already-applied', 'superseded']) {
      im().failNext(1, {
        kind: 'raw',
        status: 409,
        contentType: 'application/json',
        body: JSON.stringify({ status }),
      });
      assert.deepEqual(await recorder.record(transition({ orderId: `conflict-${status}` })), {
        applied: false,
      });
    }
  });
});
