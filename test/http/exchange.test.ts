import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { useLoopbackServer, type Handler } from '../helpers/loopbackServer';
import { Exchange, ExchangeError, type ExchangeFailure } from '../../src/http/exchange';

let handler: Handler = (_request, response) => response.end();
const paths: string[] = [];
const server = useLoopbackServer((request, response) => {
  paths.push(request.url ?? '');
  handler(request, response);
});

async function failureOf(exchange: Exchange, signal?: AbortSignal): Promise<ExchangeFailure> {
  try {
    await exchange.send({ method: 'GET', url: `${server.url}/x`, headers: {}, signal });
  } catch (error) {
    assert.ok(error instanceof ExchangeError, String(error));
    return error.failure;
  }
  assert.fail('expected the exchange to fail');
}

describe('Exchange', () => {
  const exchange = new Exchange({ timeoutMs: 2_000, maxResponseBytes: 1024, maxRequestBytes: 64 });
  after(() => exchange.close());

  test('returns any status with lower-case headers and the body as unparsed text', async () => {
    handler = (_request, response) => {
      response.writeHead(418, { 'Content-Type': 'application/json', 'X-Many': ['a', 'b'] });
      response.end('{"not": "parsed"}');
    };
    const answer = await exchange.send({ method: 'POST', url: `${server.url}/t`, headers: {}, body: 'hi' });
    assert.equal(answer.status, 418);
    assert.equal(answer.headers['content-type'], 'application/json');
    assert.equal(answer.headers['x-many'], 'a, b');
    assert.equal(answer.text, '{"not": "parsed"}');
  });

  test('a redirect is returned, not followed', async () => {
    handler = (_request, response) => {
      response.writeHead(302, { Location: `${server.url}/elsewhere` });
      response.end();
    };
    const before = paths.length;
    const answer = await exchange.send({ method: 'GET', url: `${server.url}/start`, headers: {} });
    assert.equal(answer.status, 302);
    assert.deepEqual(paths.slice(before), ['/start']);
  });

  test('an answer over the cap, a request over the cap, a caller abort and a dropped connection are told apart', async () => {
    handler = (_request, response) => response.end('x'.repeat(4096));
    assert.deepEqual(await failureOf(exchange), { kind: 'response-too-large' });

    await assert.rejects(
      exchange.send({ method: 'POST', url: `${server.url}/big`, headers: {}, body: 'y'.repeat(1024) }),
      (error: unknown) => error instanceof ExchangeError && error.failure.kind === 'request-too-large',
    );

    handler = () => undefined; // never answers
    assert.deepEqual(await failureOf(exchange, AbortSignal.abort()), { kind: 'canceled' });

    handler = (request) => request.socket.destroy();
    const dropped = await failureOf(exchange);
    assert.equal(dropped.kind, 'network');
  });

  test('the deadline covers the whole exchange, also a server trickling bytes', async () => {
    const quick = new Exchange({ timeoutMs: 300, maxResponseBytes: 1024 * 1024 });
    let timer: NodeJS.Timeout | undefined;
    handler = (_request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/plain' });
      // Never silent for long, so only a whole-exchange deadline can end it.
      timer = setInterval(() => response.write('.'), 50);
    };
    try {
      assert.deepEqual(await failureOf(quick), { kind: 'timeout' });
    } finally {
      clearInterval(timer);
      quick.close();
    }
  });
});
