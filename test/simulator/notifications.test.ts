import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkSignature, SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../src/push/signature';
import { startSimulator, UnsafeNotifyUrlError, type SimulatorHandle } from '../../src/simulator/server';
import { simulatorCalls, useSimulator } from '../helpers/simulator';

/** Contract of the outbound change notifications (an async business rule posting to an external endpoint). */

interface Delivery {
  readonly headers: IncomingHttpHeaders;
  /** The body as sent: what the signature covers. */
  readonly raw: string;
  readonly body: Record<string, string>;
  readonly receivedAt: number;
}

/**
 * A tiny endpoint on loopback recording what it receives; `failFirst` answers 500 to that many requests,
 * `redirectTo` answers every request with a 307 to that URL.
 */
function useReceiver(options: { failFirst?: number; redirectTo?: () => string } = {}) {
  const deliveries: Delivery[] = [];
  let attempts = 0;
  let server: Server | undefined;
  before(async () => {
    server = createServer((request, response) => {
      let text = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => (text += chunk));
      request.on('end', () => {
        attempts++;
        if (attempts <= (options.failFirst ?? 0)) {
          response.writeHead(500).end();
          return;
        }
        if (options.redirectTo !== undefined) {
          response.writeHead(307, { location: options.redirectTo() }).end();
          return;
        }
        deliveries.push({
          headers: request.headers,
          raw: text,
          body: JSON.parse(text) as Record<string, string>,
          receivedAt: performance.now(),
        });
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });
  return {
    deliveries,
    get attempts() {
      return attempts;
    },
    get url() {
      return `http://127.0.0.1:${(server?.address() as AddressInfo).port}/snow-events`;
    },
    /** Waits (bounded) until `count` deliveries arrived. */
    async waitFor(count: number, timeoutMs = 20_000): Promise<Delivery[]> {
      const deadline = performance.now() + timeoutMs;
      while (deliveries.length < count) {
        if (performance.now() > deadline)
          assert.fail(`expected ${count} deliveries, got ${deliveries.length}`);
        await sleep(20);
      }
      return deliveries;
    },
  };
}

const SECRET = 'Shared-secret-1';

describe('simulator notifications', () => {
  const receiver = useReceiver();
  const snow = useSimulator(() => ({ notify: { url: receiver.url, secret: SECRET } }));

  test('each insert and update of a ticket posts {table, sys_id, number, sys_mod_count, correlation_id}, signed', async () => {
    const incident = await snow.create('incident', {
      short_description: 'notify me',
      correlation_id: 'Sim:1:added:abc',
    });
    await snow.call(`/api/now/table/incident/${incident.sys_id}`, {
      method: 'PATCH',
      body: { description: 'x' },
    });
    const [created, updated] = await receiver.waitFor(2);
    assert.deepEqual(created?.body, {
      table: 'incident',
      sys_id: incident.sys_id,
      number: incident.number,
      sys_mod_count: '0',
      correlation_id: 'Sim:1:added:abc',
    });
    assert.equal(updated?.body.sys_mod_count, '1');
    assert.equal(created?.headers['content-type'], 'application/json');
    for (const delivery of [created, updated]) {
      assert.ok(delivery !== undefined);
      const signed = (secret: string) =>
        checkSignature(
          {
            timestamp: delivery.headers[TIMESTAMP_HEADER.toLowerCase()],
            signature: delivery.headers[SIGNATURE_HEADER.toLowerCase()],
            body: Buffer.from(delivery.raw, 'utf8'),
          },
          secret,
          new Date(),
          60_000,
        );
      assert.equal(signed(SECRET).ok, true, 'signed with the shared secret, just now');
      assert.deepEqual(signed('Another-secret-1'), { ok: false, problem: 'bad-signature' });
      assert.ok(
        !JSON.stringify(delivery.headers).includes(SECRET) && !delivery.raw.includes(SECRET),
        'the secret itself never travels',
      );
    }
  });

  test('a ticket without a correlation id sends it empty, as a business rule serialises an empty field', async () => {
    const before = receiver.deliveries.length;
    const incident = await snow.create('incident', { short_description: 'untagged' });
    const deliveries = await receiver.waitFor(before + 1);
    assert.equal(deliveries[before]?.body.number, incident.number);
    assert.equal(deliveries[before]?.body.correlation_id, '');
  });

  test('catalog requests notify; identity tables and unchanged updates do not', async () => {
    const before = receiver.deliveries.length;
    await snow.create('sys_user_group', { name: 'quiet' });
    const request = await snow.create('sc_request', {});
    await snow.call(`/api/now/table/sc_request/${request.sys_id}`, { method: 'PATCH', body: { state: '1' } });
    await snow.admin(`/tickets/${request.number}/close`, { method: 'POST', body: {} });
    const deliveries = await receiver.waitFor(before + 2);
    await sleep(300);
    assert.deepEqual(
      deliveries.slice(before).map((d) => [d.body.table, d.body.number, d.body.sys_mod_count]),
      [
        ['sc_request', request.number, '0'],
        ['sc_request', request.number, '1'],
      ],
    );
  });
});

describe('simulator notifications: late, reordered, repeated', () => {
  const receiver = useReceiver();
  const delayMs = 3000;
  const snow = useSimulator(() => ({
    notify: { url: receiver.url, secret: SECRET, delayMs, reorder: true, duplicateRate: 1 },
  }));

  test('a batch arrives after the delay, newest first, each change twice', async () => {
    const started = performance.now();
    const numbers = [];
    for (let i = 0; i < 3; i++)
      numbers.push((await snow.create('incident', { short_description: `n${i}` })).number);
    const deliveries = await receiver.waitFor(6);
    assert.ok((deliveries[0]?.receivedAt ?? 0) - started >= delayMs - 50, 'not before the delay');
    assert.deepEqual(
      deliveries.map((d) => d.body.number),
      [...numbers].reverse().concat([...numbers].reverse()),
    );
  });
});

describe('simulator notifications: failures', () => {
  const receiver = useReceiver({ failFirst: 1 });
  const snow = useSimulator(() => ({ notify: { url: receiver.url, secret: SECRET } }));

  test('a failed delivery is retried', async () => {
    const incident = await snow.create('incident', {});
    const [delivery] = await receiver.waitFor(1);
    assert.equal(delivery?.body.number, incident.number);
    assert.equal(receiver.attempts, 2);
  });

  test('an unreachable endpoint never breaks writes; the failure is counted after bounded retries', async () => {
    const unreachable = await startSimulator({
      notify: { url: 'http://127.0.0.1:9/nothing', secret: SECRET },
    });
    try {
      const { login, password } = unreachable.credentials;
      const response = await fetch(`${unreachable.tableApiUrl}/incident`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}`,
        },
        body: '{}',
      });
      assert.equal(response.status, 201);
      const deadline = performance.now() + 20_000;
      while (unreachable.instance.notificationStats()?.failed !== 1) {
        assert.ok(performance.now() < deadline, 'the failure is counted');
        await sleep(50);
      }
    } finally {
      await unreachable.close();
    }
  });

  test('changes beyond maxPending are given up as failed, so a stalled receiver cannot grow memory', async () => {
    const held = await startSimulator({
      notify: { url: receiver.url, secret: SECRET, delayMs: 600_000, maxPending: 2 },
    });
    try {
      const calls = simulatorCalls(() => held);
      for (const short_description of ['a', 'b', 'c']) await calls.create('incident', { short_description });
      assert.deepEqual(held.instance.notificationStats(), { delivered: 0, failed: 1, pending: 2 });
    } finally {
      await held.close();
    }
  });

  test('close() cancels pending deliveries without waiting for them', async () => {
    const late = await startSimulator({ notify: { url: receiver.url, secret: SECRET, delayMs: 600_000 } });
    const { login, password } = late.credentials;
    await fetch(`${late.tableApiUrl}/incident`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}`,
      },
      body: '{}',
    });
    assert.equal(late.instance.notificationStats()?.pending, 1);
    const started = performance.now();
    await late.close();
    assert.ok(performance.now() - started < 10_000);
  });
});

/** Waits (bounded) until `count` changes were delivered or given up, whichever it was. */
async function waitForOutcomes(sim: SimulatorHandle, count: number): Promise<void> {
  const deadline = performance.now() + 20_000;
  for (;;) {
    const { delivered = 0, failed = 0 } = sim.instance.notificationStats() ?? {};
    if (delivered + failed >= count) return;
    assert.ok(performance.now() < deadline, `expected ${count} deliveries delivered or given up`);
    await sleep(50);
  }
}

describe('simulator notifications: where signed notices may go', () => {
  const elsewhere = useReceiver();
  const redirecting = useReceiver({ redirectTo: () => elsewhere.url });
  const snow = useSimulator(() => ({ notify: { url: redirecting.url, secret: SECRET } }));

  test('a redirect is a failed delivery, never followed: its target never sees the notice', async () => {
    await snow.create('incident', { short_description: 'redirected' });
    await waitForOutcomes(snow.sim, 1);
    assert.ok(redirecting.attempts >= 1, 'the configured endpoint was called');
    assert.equal(elsewhere.attempts, 0, 'the redirect target was never called');
    assert.deepEqual(snow.sim.instance.notificationStats(), { delivered: 0, failed: 1, pending: 0 });
  });

  test('plain http beyond loopback, other schemes and URLs with credentials are refused at start', async () => {
    const refused: [string, RegExp][] = [
      [
        'http://snow-events.example.com/hook',
        /^notify\.url must be https:\/\/, or http:\/\/ to a loopback host/,
      ],
      ['http://10.1.2.3:8080/hook', /not http:\/\/10\.1\.2\.3:8080$/],
      ['ftp://127.0.0.1/hook', /not ftp:\/\/127\.0\.0\.1$/],
      [
        'https://hook-user:Url-password-9@snow-events.example.com/hook',
        /^notify\.url must not hold credentials/,
      ],
      ['snow-events.example.com/hook', /^notify\.url is not a URL$/],
    ];
    for (const [url, message] of refused) {
      await assert.rejects(
        // A simulator that does start must not keep the test process alive.
        startSimulator({ notify: { url, secret: SECRET } }).then((started) => started.close()),
        (error: unknown) => {
          assert.ok(error instanceof UnsafeNotifyUrlError, String(error));
          assert.equal(error.field, 'notify.url');
          assert.match(error.message, message);
          assert.ok(!error.message.includes('Url-password-9'), 'the URL credentials are not repeated');
          return true;
        },
        url,
      );
    }
  });

  test('https anywhere and http to a loopback host are accepted', async () => {
    for (const url of [
      'https://snow-events.example.com/hook',
      'http://localhost:9/hook',
      'http://[::1]:9/hook',
    ]) {
      const accepted = await startSimulator({ notify: { url, secret: SECRET } });
      await accepted.close();
      assert.deepEqual(accepted.instance.notificationStats(), { delivered: 0, failed: 0, pending: 0 }, url);
    }
  });
});
