/**
 * Answers a real instance can give but a faithful simulator never should: a scripted HTTP server on loopback
 * stands in for misbehaving instances, proxies and middleboxes.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { useLoopbackServer, type Handler } from '../helpers/loopbackServer';
import { renderings, serviceNowFailure } from '../helpers/serviceNowErrors';
import { ServiceNowClient } from '../../src/servicenow/client';

const PASSWORD = 'Hostile-Pa55word-7731';
const SYS_ID = 'a'.repeat(32);
let handler: Handler = (_request, response) => response.end();
const seenAuthorization: (string | undefined)[] = [];
const server = useLoopbackServer((request, response) => {
  seenAuthorization.push(request.headers.authorization);
  handler(request, response);
});

function client(options: { maxResponseBytes?: number } = {}): ServiceNowClient {
  return new ServiceNowClient({
    tableApiUrl: `${server.url}/api/now/table`,
    credentials: { kind: 'basic', login: 'connector', password: PASSWORD },
    ...options,
  });
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Handler {
  return (_request, response) => {
    response.writeHead(status, { 'Content-Type': 'application/json;charset=UTF-8', ...headers });
    response.end(JSON.stringify(body));
  };
}

function assertNoSecret(error: Error): void {
  const basic = Buffer.from(`connector:${PASSWORD}`).toString('base64');
  for (const text of renderings(error)) {
    assert.ok(!text.includes(PASSWORD), `password leaked: ${text}`);
    assert.ok(!text.includes(basic), `Authorization header leaked: ${text}`);
  }
}

describe('client against misbehaving servers', () => {
  test('an HTML answer with status 200 (hibernating instance) is a retryable not-json error', async () => {
    handler = (_request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/html' });
      response.end('<html><body>Your instance is hibernating</body></html>');
    };
    const error = await serviceNowFailure(() => client().getTicket('incident', SYS_ID));
    assert.equal(error.kind, 'not-json');
    assert.equal(error.retryable, true);
    assert.match(error.message, /hibernating/);
    assertNoSecret(error);
  });

  test('a JSON content type with a broken body is an invalid-response error', async () => {
    handler = (_request, response) => {
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.end('{"result": [');
    };
    assert.equal(
      (await serviceNowFailure(() => client().getTicket('incident', SYS_ID))).kind,
      'invalid-response',
    );
  });

  test('JSON without the result envelope is an invalid-response error', async () => {
    handler = json(200, { records: [] });
    const error = await serviceNowFailure(() => client().getTicket('incident', SYS_ID));
    assert.equal(error.kind, 'invalid-response');
    assert.match(error.message, /envelope/);
  });

  test('a redirect is not followed, so credentials never go to the redirect target', async () => {
    let redirectedTo = 0;
    const other = createServer((_request, response) => {
      redirectedTo++;
      response.end();
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      handler = (_request, response) => {
        response.writeHead(302, {
          Location: `http://127.0.0.1:${(other.address() as AddressInfo).port}/login`,
        });
        response.end();
      };
      const error = await serviceNowFailure(() => client().getTicket('incident', SYS_ID));
      assert.equal(error.status, 302);
      assert.match(error.message, /redirected to 127\.0\.0\.1:\d+ \(not followed\)/);
      assert.equal(redirectedTo, 0);
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });

  test('a next-page link to another host is refused', async () => {
    handler = json(
      200,
      { result: [{ sys_id: SYS_ID }] },
      { Link: '<https://evil.example.com/api/now/table/sys_user>;rel="next"' },
    );
    const error = await serviceNowFailure(async () => {
      for await (const page of client().listPages('sys_user')) assert.ok(page);
    });
    assert.equal(error.kind, 'invalid-response');
    assert.match(error.message, /another host \(evil\.example\.com\)/);
  });

  test('a batch status read answering with a ticket that was not asked for is a mismatch', async () => {
    handler = json(200, {
      result: [{ sys_id: 'b'.repeat(32), number: 'INC0000001', state: '1', active: 'true' }],
    });
    const error = await serviceNowFailure(() => client().getTickets('incident', [SYS_ID]));
    assert.equal(error.kind, 'mismatch');
  });

  test('an answer over the size cap is refused', async () => {
    handler = json(200, { result: [{ sys_id: SYS_ID, description: 'x'.repeat(50_000) }] });
    const error = await serviceNowFailure(() =>
      client({ maxResponseBytes: 10_000 }).getTicket('incident', SYS_ID),
    );
    assert.equal(error.kind, 'response-too-large');
    assert.match(error.message, /ResponseSizeLimit/);
  });

  test('an error message that echoes the password is redacted', async () => {
    handler = json(400, {
      error: { message: `Bad value ${PASSWORD}`, detail: `detail ${PASSWORD}` },
      status: 'failure',
    });
    const error = await serviceNowFailure(() => client().getTicket('incident', SYS_ID));
    assert.equal(error.status, 400);
    assert.match(error.message, /Bad value \[redacted\]/);
    assertNoSecret(error);
  });

  test('an error page from a proxy keeps the status and is retryable for 502', async () => {
    handler = (_request, response) => {
      response.writeHead(502, { 'Content-Type': 'text/html' });
      response.end('<html>Bad gateway</html>');
    };
    const error = await serviceNowFailure(() => client().getTicket('incident', SYS_ID));
    assert.equal(error.kind, 'http');
    assert.equal(error.status, 502);
    assert.equal(error.retryable, true);
  });

  test('keyset paging stops with an error when a row has no key, instead of asking for the same page forever', async () => {
    let requests = 0;
    handler = (request, response) => {
      requests++;
      json(200, { result: [{ sys_id: SYS_ID, number: 'INC0000001' }] })(request, response);
    };
    const error = await serviceNowFailure(async () => {
      for await (const page of client().streamChangedSince('incident', '2024-01-01 00:00:00'))
        assert.ok(page);
    });
    assert.equal(error.kind, 'invalid-response');
    assert.match(error.message, /without 'sys_updated_on'/);
    assert.equal(requests, 1);
  });

  // Bounded: without the fix this call would trickle on for as long as the server likes.
  test('the timeout covers the whole exchange, not only silences', { timeout: 30_000 }, async () => {
    const trickles: NodeJS.Timeout[] = [];
    handler = (_request, response) => {
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.write('{"result": {"sys_id": "');
      // A byte every 100 ms keeps the socket busy for far longer than the 500 ms allowed.
      const trickle = setInterval(() => response.write(' '), 100);
      trickles.push(trickle);
      response.on('close', () => clearInterval(trickle));
    };
    try {
      const slow = new ServiceNowClient({
        tableApiUrl: `${server.url}/api/now/table`,
        credentials: { kind: 'basic', login: 'connector', password: PASSWORD },
        timeoutMs: 500,
      });
      const error = await serviceNowFailure(() => slow.getTicket('incident', SYS_ID));
      assert.equal(error.kind, 'timeout');
      assert.equal(error.retryable, true);
    } finally {
      trickles.forEach(clearInterval);
    }
  });

  test('an instance that does not store the correlation id is a mismatch, and the ticket is retired', async () => {
    const writes: { method?: string; body: string }[] = [];
    handler = (request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        if (request.method !== 'GET') writes.push({ method: request.method, body });
        const row = { sys_id: SYS_ID, number: 'INC0000009', state: '1', active: 'true', correlation_id: '' };
        if (request.method === 'GET') json(200, { result: [] })(request, response);
        else json(request.method === 'POST' ? 201 : 200, { result: row })(request, response);
      });
    };
    const error = await serviceNowFailure(() =>
      client().createTicket({ table: 'incident', correlationId: 'kept-or-not', fields: {} }),
    );
    assert.equal(error.kind, 'mismatch');
    assert.equal(error.retryable, false);
    assert.match(error.message, /did not store the correlation id/);
    assert.deepEqual(
      writes.map((write) => write.method),
      ['POST', 'PATCH'],
    );
    assert.match(writes[1]?.body ?? '', /"correlation_id":""/);
  });

  test('a lookup matching far more rows than it can is a mismatch, not a full-table read', async () => {
    const rows = Array.from({ length: 50 }, (_, index) => ({
      sys_id: index.toString(16).padStart(32, '0'),
      number: `INC${index}`,
      state: '1',
      active: 'true',
      correlation_id: 'other',
    }));
    handler = json(
      200,
      { result: rows },
      { Link: `<${server.url}/api/now/table/incident?sysparm_offset=50>;rel="next"` },
    );
    const error = await serviceNowFailure(() => client().findByCorrelationId('incident', 'mine'));
    assert.equal(error.kind, 'mismatch');
    assert.match(error.message, /more than 20 rows/);
  });

  test('the server saw Basic credentials on every request', () => {
    assert.ok(seenAuthorization.length > 0);
    assert.ok(seenAuthorization.every((header) => header?.startsWith('Basic ')));
  });
});

describe('client refuses unsafe targets before sending anything', () => {
  test('plain http to a remote host', async () => {
    const error = await serviceNowFailure(async () =>
      new ServiceNowClient({
        tableApiUrl: 'http://instance.example.com/api/now/table',
        credentials: { kind: 'basic', login: 'u', password: PASSWORD },
      }).getTicket('incident', SYS_ID),
    );
    assert.equal(error.kind, 'invalid-request');
    assert.match(error.message, /use https/);
    assertNoSecret(error);
  });

  test('a sys_id that is not 32 hex characters', async () => {
    const error = await serviceNowFailure(() => client().getTicket('incident', '../sys_user'));
    assert.equal(error.kind, 'invalid-request');
    assert.match(error.message, /sys_id/);
  });
});
