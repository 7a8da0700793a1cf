import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Client } from '@temporalio/client';
import { buildPushReceiver } from '../../src/push/receiver';
import { ReplayCache } from '../../src/push/replayCache';
import { signedHeaders } from '../../src/push/signature';

describe('replay cache', () => {
  test('remembers a signature until its time, then lets it go', () => {
    const cache = new ReplayCache(10);
    assert.equal(cache.remember('a', 1_000, 0), true);
    assert.equal(cache.remember('a', 1_000, 500), false, 'a replay inside the window');
    assert.equal(cache.remember('a', 2_000, 1_001), true, 'past its window: the clock check guards it');
  });

  test('is bounded: when full, the oldest entry goes first', () => {
    const cache = new ReplayCache(3);
    for (const signature of ['a', 'b', 'c', 'd']) assert.equal(cache.remember(signature, 10_000, 0), true);
    assert.equal(cache.size, 3);
    assert.equal(cache.remember('b', 10_000, 0), false, 'b is still known');
    assert.equal(cache.remember('a', 10_000, 0), true, 'a was evicted');
  });

  test('drops expired entries as new ones arrive', () => {
    const cache = new ReplayCache(100);
    cache.remember('old-1', 100, 0);
    cache.remember('old-2', 200, 0);
    cache.remember('new', 5_000, 1_000);
    assert.equal(cache.size, 1);
  });

  test('forgets a signature on request', () => {
    const cache = new ReplayCache(10);
    cache.remember('a', 1_000, 0);
    cache.forget('a');
    assert.equal(cache.remember('a', 1_000, 0), true);
  });
});

describe('push receiver when Temporal does not answer', () => {
  test('answers 503, and the same signed request sent again is not taken for a replay', async () => {
    const outcomes: string[] = [];
    // Only what the receiver touches before the lookup fails; the dev-server tests cover the real client.
    const unreachable = {
      options: { namespace: 'ns-down' },
      withDeadline: <R>(_deadline: number | Date, fn: () => Promise<R>) => fn(),
      workflow: {
        list: () => {
          throw new Error('14 UNAVAILABLE: connection refused');
        },
      },
    } as unknown as Client;
    const secret = 'Replay-test-secret-0123456789abcdef';
    const app = buildPushReceiver({
      settings: {
        Enabled: true,
        Port: 0,
        Host: '127.0.0.1',
        Path: '/hook',
        Secret: secret,
        MaxSkew: 300_000,
        MaxBodyBytes: 4096,
      },
      client: unreachable,
      metrics: {
        serviceNowCall: () => undefined,
        budgetWait: () => undefined,
        push: (outcome) => outcomes.push(outcome),
        sweep: () => undefined,
        orderRecorded: () => undefined,
      },
    });
    try {
      const payload = JSON.stringify({
        table: 'sc_request',
        sys_id: 'fedcba9876543210fedcba9876543210',
        number: 'REQ0010001',
        sys_mod_count: '1',
      });
      const headers = { 'content-type': 'application/json', ...signedHeaders(secret, payload, new Date()) };
      for (let attempt = 1; attempt <= 2; attempt++) {
        const answer = await app.inject({ method: 'POST', url: '/hook', headers, payload });
        assert.equal(answer.statusCode, 503, `attempt ${attempt}`);
        assert.deepEqual(answer.json(), {
          error: 'Temporal (namespace ns-down) did not take the notice; send it again later',
        });
      }
      assert.deepEqual(outcomes, ['unavailable', 'unavailable']);
    } finally {
      await app.close();
    }
  });
});
