import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { IdentityManagerAuth } from '../../src/assignments/httpStore';
import { parseSettings } from '../../src/config/load';
import { liveSettings } from '../../src/credentials/refresh';
import { createAssignmentStore } from '../../src/platform/assignmentStore';
import { testTransition as transition } from '../helpers/assignments';
import { assertNoSecrets, httpStoreFixture, imFailure, TEMPLATE } from '../helpers/httpStoreFixture';

const OLD_TOKEN = 'Rotated-Away-Token-1a2b3c';
const NEW_TOKEN = 'Current-Token-4d5e6f7a8b';
const OLD_SECRET = 'Old-Client-Secret-9z8y7x';
const NEW_SECRET = 'New-Client-Secret-6w5v4u';

/** A re-read that counts how often it was asked and answers with `next`. */
function reread(next: IdentityManagerAuth | undefined) {
  const calls = { count: 0 };
  return {
    calls,
    rereadAuth: async () => {
      calls.count += 1;
      return next;
    },
  };
}

describe('Identity Manager credentials are read again once after a refusal', () => {
  describe('bearer token rotated in the store', () => {
    const { im, store } = httpStoreFixture({ bearerToken: NEW_TOKEN });

    test('a 401 for the old token reads the store once and retries with the new one; later calls do not ask', async () => {
      const { calls, rereadAuth } = reread({ kind: 'bearer', token: NEW_TOKEN });
      const recorder = store({ auth: { kind: 'bearer', token: OLD_TOKEN }, rereadAuth });
      assert.deepEqual(await recorder.record(transition({ orderId: 'rot-1' })), { applied: true });
      assert.equal(calls.count, 1);
      assert.deepEqual(await recorder.record(transition({ orderId: 'rot-2' })), { applied: true });
      assert.equal(calls.count, 1, 'accepted credentials are not read again');
      const used = im().requests.map((request) => request.authorization);
      assert.deepEqual(used.slice(-3), [`Bearer ${OLD_TOKEN}`, `Bearer ${NEW_TOKEN}`, `Bearer ${NEW_TOKEN}`]);
    });

    test('a store that still holds the refused token gives the refusal, after one read, naming no secret', async () => {
      const { calls, rereadAuth } = reread({ kind: 'bearer', token: OLD_TOKEN });
      const recorder = store({ auth: { kind: 'bearer', token: OLD_TOKEN }, rereadAuth });
      const error = await imFailure(() => recorder.record(transition({ orderId: 'rot-3' })));
      assert.equal(error.kind, 'auth');
      assert.equal(calls.count, 1);
      assertNoSecrets(error, [OLD_TOKEN, NEW_TOKEN]);
    });
  });

  describe('OAuth client secret rotated in the store', () => {
    const { im, store } = httpStoreFixture({ oauth: { clientId: 'connector', clientSecret: NEW_SECRET } });
    const oauth = (clientSecret: string): IdentityManagerAuth => ({
      kind: 'oauth',
      tokenUrl: im().tokenUrl,
      clientId: 'connector',
      clientSecret,
    });

    test('the token endpoint refusing the old secret reads the store once and gets a token with the new one', async () => {
      const { calls, rereadAuth } = reread(oauth(NEW_SECRET));
      const recorder = store({ auth: oauth(OLD_SECRET), rereadAuth });
      assert.deepEqual(await recorder.record(transition({ orderId: 'rot-4' })), { applied: true });
      assert.equal(calls.count, 1);
      assert.deepEqual(
        im().tokenRequests.map((request) => request.secretMatched),
        [false, true],
      );
    });
  });

  describe('the worker store follows live settings', () => {
    const { im } = httpStoreFixture({ bearerToken: NEW_TOKEN });
    const settings = (token: string) =>
      parseSettings(
        {
          TicketConnector: {
            Assignments: {
              Store: 'Http',
              Http: { UrlTemplate: `${im().url}${TEMPLATE}`, BearerToken: token },
            },
          },
        },
        'test settings',
      );

    test('createAssignmentStore re-reads the stores through LiveSettings after a 401', async () => {
      let reads = 0;
      const live = liveSettings(
        settings(OLD_TOKEN),
        async () => {
          reads += 1;
          return settings(NEW_TOKEN);
        },
        { minIntervalMs: 0 },
      );
      const recorder = createAssignmentStore(live.current(), live);
      try {
        assert.deepEqual(await recorder.record(transition({ orderId: 'rot-5' })), { applied: true });
        assert.equal(reads, 1);
      } finally {
        await recorder.close();
      }
    });
  });
});
