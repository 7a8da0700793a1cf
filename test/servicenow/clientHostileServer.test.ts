/**
 * Answers a real instance can give but a faithful simulator never should: a scripted HTTP server on loopback
 * stands in for misbehaving instances, proxies and middleboxes.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { renderings, serviceNowFailure } from '../helpers/serviceNowErrors';
import { ServiceNowClient } from '../../src/servicenow/client';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

const PASSWORD = 'Hostile-Pa55word-7731';
const SYS_ID = 'a'.repeat(32);
let handler: Handler = (_request, response) => response.end();
const seenAuthorization: (string | undefined)[] = [];
const server = createServer((request, response) => {
  seenAuthorization.push(request.headers.authorization);
  handler(request, response);
});
let baseUrl = '';

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function client(options: { maxResponseBytes?: number } = {}): ServiceNowClient {
  return new ServiceNowClient({
    tableApiUrl: `${baseUrl}/api/now/table`,
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
