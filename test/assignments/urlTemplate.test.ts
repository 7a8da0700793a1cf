import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { IdentityManagerError } from '../../src/assignments/identityManagerError';
import { UrlTemplate } from '../../src/assignments/urlTemplate';
import { testTransition as transition } from '../helpers/assignments';
import { httpStoreFixture, imFailure } from '../helpers/httpStoreFixture';

const BEARER = 'Dot-Segment-Bearer-51c2';
const auth = { kind: 'bearer', token: BEARER } as const;
/** Every call the template can address: anything else means a value changed the path. */
const TEMPLATE_PATH = /^\/api\/assignments\/[^/]+\/orders\/[^/?]+\?/;

describe('URL template: values cannot change the path', () => {
  const { im, store } = httpStoreFixture({ bearerToken: BEARER });

  for (const [placeholder, value] of [
    ['assignmentId', '..'],
    ['assignmentId', '.'],
    ['orderId', '..'],
    ['orderId', '.'],
  ] as const) {
    test(`{${placeholder}} "${value}" is refused before anything is sent, naming the placeholder`, async () => {
      const calls = im().requests.length;
      const error = await imFailure(() =>
        store({ auth }).record(transition({ [placeholder]: value, state: 'Executed' })),
      );
      assert.equal(error.kind, 'invalid-request');
      assert.match(
        error.message,
        new RegExp(`UrlTemplate refuses \\{${placeholder}\\}: .*"${value.replace(/\./g, '\\.')}"`),
      );
      assert.equal(im().requests.length, calls, 'nothing, and so no token, was sent anywhere');
    });
  }

  test('percent-encoded dot segments are sent encoded, to the templated path, with the token', async () => {
    const recorder = store({ auth });
    const values = ['%2e%2e', '%2E%2e', '.%2e', '%2e', '...', '..x'];
    const calls = im().requests.length;
    for (const value of values) {
      assert.deepEqual(await recorder.record(transition({ assignmentId: value, orderId: `dots-${value}` })), {
        applied: true,
      });
    }
    const sent = im().requests.slice(calls);
    assert.equal(sent.length, values.length);
    for (const request of sent) {
      assert.match(request.url, TEMPLATE_PATH);
      assert.equal(request.authorization, `Bearer ${BEARER}`);
    }
    assert.ok(sent[0]?.url.startsWith('/api/assignments/%252e%252e/orders/'), sent[0]?.url);
  });

  test('a dot value outside the path (in the query) is harmless and sent', async () => {
    const calls = im().requests.length;
    const result = await store({ auth }).record(transition({ connection: '..', orderId: 'dots-in-query' }));
    assert.deepEqual(result, { applied: true });
    const [request] = im().requests.slice(calls);
    assert.match(request?.url ?? '', TEMPLATE_PATH);
    assert.match(request?.url ?? '', /connection=\.\./);
  });

  test('two placeholders that together make ".." in one segment are both named', () => {
    const template = UrlTemplate.parse('https://im.example/api/{assignmentId}{state}/x');
    assert.throws(
      () => template.render({ assignmentId: '.', state: '.', orderId: 'o', connection: 'c' }),
      (error: unknown) =>
        error instanceof IdentityManagerError && /refuses \{assignmentId\}, \{state\}: /.test(error.message),
    );
    assert.equal(
      template.render({ assignmentId: '.', state: 'x', orderId: 'o', connection: 'c' }),
      'https://im.example/api/.x/x',
    );
  });
});
