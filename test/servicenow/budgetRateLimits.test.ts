/** ServiceNow's 429s over real HTTP: the simulator's rate-limit rule, and a scripted peer for the other shapes. */
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { describe, test } from 'node:test';
import { noMetrics, type ConnectorMetrics } from '../../src/platform/metrics';
import { ServiceNowClient } from '../../src/servicenow/client';
import { ServiceNowError } from '../../src/servicenow/errors';
import { useLoopbackServer } from '../helpers/loopbackServer';
import { useSimulator } from '../helpers/simulator';
import { waitFor } from '../helpers/waitFor';

const PASSWORD = 'Admin-Pa55word-Known-To-Test';
const HOUR_MS = 3_600_000;

/** What the client reported through ConnectorMetrics. */
function recorder() {
  const calls: [string, string, number][] = [];
  const waits: [string, string][] = [];
  const metrics: ConnectorMetrics = {
    ...noMetrics,
    serviceNowCall: (connection, table, status) => calls.push([connection, table, status]),
    budgetWait: (connection, reason) => waits.push([connection, reason]),
  };
  return { calls, waits, metrics };
}

describe('a rate-limit rule of the instance', () => {
  let offsetMs = 0;
  const fixture = useSimulator({
    admin: { password: PASSWORD },
    rateLimit: { requestsPerHour: 3 },
    now: () => new Date(Date.now() + offsetMs),
  });

  test('a 429 pauses every call of the connection until Retry-After, then they all succeed', async () => {
    const { calls, waits, metrics } = recorder();
    const client = new ServiceNowClient({
      tableApiUrl: fixture.sim.tableApiUrl,
      credentials: { kind: 'basic', login: 'admin', password: PASSWORD },
      connection: 'Main',
      metrics,
    });
    // The instance's hour ends 1.8 s from now: the rule's window (3 requests) resets right after the refusal.
    const realNow = Date.now();
    offsetMs = Math.ceil(realNow / HOUR_MS) * HOUR_MS - 1800 - realNow;
    const find = () => client.findUser('admin', { fields: ['sys_id'] });
    for (let index = 0; index < 3; index++) assert.ok(await find());
    const refused = find();
    await waitFor('the refusal to reach the client', () =>
      calls.some(([, , status]) => status === 429) ? true : undefined,
    );
    // Sent while the connection is paused: they wait instead of being refused too.
    const others = [find(), find()];
    for (const user of await Promise.all([refused, ...others])) assert.ok(user?.sys_id);

    const byStatus = fixture.sim.instance.stats.counts().byStatus;
    assert.equal(byStatus['429'], 1, 'only the first call was refused');
    assert.deepEqual(
      calls.filter(([, , status]) => status === 429),
      [['Main', 'sys_user', 429]],
    );
    assert.equal(calls.filter(([, , status]) => status === 200).length, 6);
    assert.deepEqual(waits, [
      ['Main', 'rate-limited'],
      ['Main', 'rate-limited'],
      ['Main', 'rate-limited'],
    ]);
  });
});

describe('429s without a rule, or with a long pause', () => {
  /** Answers queued by the test, then a list with the admin user; counts the requests that reached it. */
  let script: ((response: ServerResponse) => void)[] = [];
  let requests = 0;
  const peer = useLoopbackServer((_request, response) => {
    requests += 1;
    const next = script.shift();
    if (next !== undefined) return next(response);
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ result: [{ sys_id: 'a'.repeat(32), user_name: 'admin' }] }));
  });
  const refuse = (headers: Record<string, string>) => (response: ServerResponse) => {
    response.writeHead(429, { 'content-type': 'application/json', ...headers });
    response.end(JSON.stringify({ error: { message: 'Too Many Requests' } }));
  };

  const start = () => {
    requests = 0;
    const recorded = recorder();
    const client = new ServiceNowClient({
      tableApiUrl: `${peer.url}/api/now/table`,
      credentials: { kind: 'basic', login: 'admin', password: 'x' },
      connection: 'Peer',
      metrics: recorded.metrics,
    });
    return { client, ...recorded, find: () => client.findUser('admin') };
  };

  test('a bare 429 (a full request queue) is backed off from, then the call succeeds', async () => {
    const { find, waits } = start();
    script = [refuse({}), refuse({})];
    assert.ok(await find());
    assert.equal(requests, 3);
    assert.deepEqual(waits, [
      ['Peer', 'rate-limited'],
      ['Peer', 'rate-limited'],
    ]);
  });

  test('X-RateLimit-Reset alone says when to ask again', async () => {
    const { find, waits } = start();
    script = [refuse({ 'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000) + 1) })];
    assert.ok(await find());
    assert.equal(requests, 2);
    assert.deepEqual(waits, [['Peer', 'rate-limited']]);
  });

  test('a pause longer than a call may wait fails it, and the other calls, with the delay for Temporal', async () => {
    const { find, calls } = start();
    script = [
      refuse({
        'retry-after': '3600',
        'x-ratelimit-limit': '5000',
        'x-ratelimit-rule': '5f4a1e2bc0a8010e00a1b2c3d4e5f601',
      }),
    ];
    const first = await find().then(
      () => assert.fail('expected a 429'),
      (error: unknown) => error,
    );
    assert.ok(first instanceof ServiceNowError);
    assert.equal(first.status, 429);
    assert.equal(first.retryable, true);
    assert.equal(first.retryAfterMs, 3_600_000);
    assert.match(
      first.message,
      /rate-limit rule 5f4a1e2bc0a8010e00a1b2c3d4e5f601 \(5000 requests per hour\)/,
    );

    const second = await find().then(
      () => assert.fail('expected the connection to stay paused'),
      (error: unknown) => error,
    );
    assert.ok(second instanceof ServiceNowError);
    assert.equal(second.status, 429);
    assert.ok(
      second.retryAfterMs !== undefined && second.retryAfterMs > 3_500_000,
      String(second.retryAfterMs),
    );
    assert.match(second.message, /not sent/);
    assert.equal(requests, 1, 'the paused call never reached ServiceNow');
    assert.deepEqual(calls, [['Peer', 'sys_user', 429]]);
  });
});
