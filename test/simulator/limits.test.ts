import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RATE_LIMIT_RULE_SYS_ID } from '../../src/simulator/server';
import { ManualClock, useSimulator, type SimulatorFixture } from '../helpers/simulator';

/** Contract of rate limits, the request queue, injected faults and hibernation. */

async function setFaults(snow: SimulatorFixture, faults: Record<string, number>): Promise<void> {
  const response = await snow.admin('/faults', { method: 'PUT', body: faults });
  assert.equal(response.status, 200, await response.text());
}

/** Resolves to the status, or to 'dropped' when the connection closed without an answer. */
async function statusOf(request: Promise<Response>): Promise<number | 'dropped'> {
  try {
    const response = await request;
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 'dropped';
  }
}

describe('simulated hourly rate limit', () => {
  const clock = new ManualClock('2024-05-01T10:00:00Z');
  const snow = useSimulator({ now: clock.now, rateLimit: { requestsPerHour: 3 } });
  const windowEnd = String(Date.parse('2024-05-01T11:00:00Z') / 1000);

  test('allowed answers carry X-RateLimit-Limit, -Reset and -Rule', async () => {
    for (let i = 0; i < 3; i++) {
      const response = await snow.call('/api/now/table/incident');
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('x-ratelimit-limit'), '3');
      assert.equal(response.headers.get('x-ratelimit-reset'), windowEnd);
      assert.equal(response.headers.get('x-ratelimit-rule'), RATE_LIMIT_RULE_SYS_ID);
      assert.equal(response.headers.get('retry-after'), null);
    }
  });

  test('beyond the limit: 429 with Retry-After until the end of the hour', async () => {
    clock.advance(15 * 60);
    const response = await snow.call('/api/now/table/incident');
    assert.equal(response.status, 429);
    assert.equal(response.headers.get('retry-after'), String(45 * 60));
    assert.equal(response.headers.get('x-ratelimit-limit'), '3');
    assert.equal(response.headers.get('x-ratelimit-reset'), windowEnd);
    assert.equal(response.headers.get('x-ratelimit-rule'), RATE_LIMIT_RULE_SYS_ID);
    // The envelope the platform documents for a denied request (Inbound REST API rate limiting).
    assert.deepEqual(await response.json(), {
      error: {
        message: 'Rate limit exceeded',
        detail: 'Rate limit of 3 requests per hour for Table API exceeded',
      },
      status: 'failure',
    });
  });

  test('the admin API is not rate limited', async () => {
    assert.equal((await snow.admin('/stats')).status, 200);
  });

  test('a new hour opens a new window', async () => {
    clock.advance(45 * 60);
    const response = await snow.call('/api/now/table/incident');
    assert.equal(response.status, 200);
    assert.equal(
      response.headers.get('x-ratelimit-reset'),
      String(Date.parse('2024-05-01T12:00:00Z') / 1000),
    );
  });
});

describe('simulated request queue and faults', () => {
  const snow = useSimulator({ maxConcurrent: 2, randomSeed: 42 });

  test('beyond maxConcurrent requests in flight: a bare 429, without Retry-After or rate-limit headers', async () => {
    await setFaults(snow, { latencyMs: 2000 });
    try {
      const responses = await Promise.all([1, 2, 3].map(() => snow.call('/api/now/table/incident')));
      const refused = responses.filter((response) => response.status === 429);
      assert.equal(refused.length, 1);
      assert.equal(responses.filter((response) => response.status === 200).length, 2);
      for (const header of ['retry-after', 'x-ratelimit-limit', 'x-ratelimit-reset', 'x-ratelimit-rule']) {
        assert.equal(refused[0]?.headers.get(header), null, header);
      }
      await Promise.all(responses.map((response) => response.arrayBuffer()));
    } finally {
      await setFaults(snow, { latencyMs: 0 });
    }
  });

  test('latencyMs delays answers', async () => {
    await setFaults(snow, { latencyMs: 300 });
    try {
      const started = performance.now();
      assert.equal((await snow.call('/api/now/table/incident')).status, 200);
      assert.ok(performance.now() - started >= 290);
    } finally {
      await setFaults(snow, { latencyMs: 0 });
    }
  });

  test('errorRate answers 500 or 503 with the error envelope', async () => {
    await setFaults(snow, { errorRate: 1 });
    try {
      for (let i = 0; i < 5; i++) {
        const response = await snow.call('/api/now/table/incident');
        assert.ok([500, 503].includes(response.status), String(response.status));
        const body = (await response.json()) as { status: string; error: { message: string } };
        assert.equal(body.status, 'failure');
      }
      assert.equal((await snow.admin('/stats')).status, 200, 'faults never touch the admin API');
    } finally {
      await setFaults(snow, { errorRate: 0 });
    }
  });

  test('dropRate closes connections without an answer', async () => {
    await setFaults(snow, { dropRate: 1 });
    try {
      assert.equal(await statusOf(snow.call('/api/now/table/incident')), 'dropped');
    } finally {
      await setFaults(snow, { dropRate: 0 });
    }
    assert.equal(await statusOf(snow.call('/api/now/table/incident')), 200);
  });

  test('burst429 refuses the next N requests with the given Retry-After', async () => {
    await setFaults(snow, { burst429: 2, retryAfterSeconds: 7 });
    for (let i = 0; i < 2; i++) {
      const response = await snow.call('/api/now/table/incident');
      assert.equal(response.status, 429);
      assert.equal(response.headers.get('retry-after'), '7');
      await response.arrayBuffer();
    }
    assert.equal((await snow.call('/api/now/table/incident')).status, 200);
  });

  test('failAfterCommit loses the answer but keeps the record: a lookup finds it', async () => {
    await setFaults(snow, { failAfterCommit: 1 });
    const outcomes = [];
    try {
      for (let i = 0; i < 6; i++) {
        outcomes.push(
          await statusOf(
            snow.call('/api/now/table/incident', {
              body: { short_description: 'lost', correlation_id: `lost-${i}` },
            }),
          ),
        );
      }
    } finally {
      await setFaults(snow, { failAfterCommit: 0 });
    }
    assert.ok(
      outcomes.every((outcome) => outcome === 500 || outcome === 'dropped'),
      String(outcomes),
    );
    const found = await snow.call('/api/now/table/incident?sysparm_query=correlation_idSTARTSWITHlost-');
    assert.equal(found.headers.get('x-total-count'), '6');
  });

  test('the same random seed replays the same faults after a reset', async () => {
    const run = async () => {
      await setFaults(snow, { errorRate: 0.5 });
      const statuses = [];
      for (let i = 0; i < 12; i++) statuses.push(await statusOf(snow.call('/api/now/table/incident')));
      return statuses;
    };
    await snow.admin('/reset', { method: 'POST' });
    const first = await run();
    await snow.admin('/reset', { method: 'POST' });
    const second = await run();
    await snow.admin('/reset', { method: 'POST' });
    assert.deepEqual(second, first);
    assert.ok(first.includes(200) && first.some((status) => status !== 200), String(first));
  });
});

describe('simulated hibernation', () => {
  const snow = useSimulator();

  test('a hibernating instance answers 200 text/html to every instance URL, but not to the admin API', async () => {
    assert.equal(
      (await snow.admin('/hibernate', { method: 'PUT', body: { hibernating: true } })).status,
      200,
    );
    try {
      for (const path of [
        '/api/now/table/incident',
        '/oauth_token.do',
        '/api/sn_sc/servicecatalog/items/x/order_now',
      ]) {
        const response = await snow.call(path, path === '/api/now/table/incident' ? {} : { body: {} });
        assert.equal(response.status, 200, path);
        assert.match(response.headers.get('content-type') ?? '', /^text\/html/, path);
        assert.match(await response.text(), /hibernating/i);
      }
      const admin = await snow.admin('/hibernate');
      assert.deepEqual(await admin.json(), { result: { hibernating: true } });
    } finally {
      await snow.admin('/hibernate', { method: 'PUT', body: { hibernating: false } });
    }
    const awake = await snow.call('/api/now/table/incident');
    assert.equal(awake.headers.get('content-type'), 'application/json;charset=UTF-8');
  });
});
