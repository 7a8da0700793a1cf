import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { Keyring } from '../../src/codec/keyring';
import { AesGcmPayloadCodec } from '../../src/codec/payloadCodec';
import { payloadsToJson } from '../../src/codec/payloadJson';
import { startCodecServer, type CodecServerHandle } from '../../src/codec/server';
import { SESSION_COOKIE } from '../../src/codec/codecAuth';

const TOKEN = randomBytes(24).toString('base64url');
const UI_ORIGIN = 'http://localhost:8233';
const oldKey = { id: 'k2025', key: randomBytes(32) };
const newKey = { id: 'k2026', key: randomBytes(32) };
const order = { Owner: { InternalDisplayName: 'Jane Doe' }, Login: 'jdoe' };

async function sealed(keyring: Keyring, value: unknown): Promise<Payload[]> {
  return new AesGcmPayloadCodec(keyring, { encrypt: true }).encode([
    defaultPayloadConverter.toPayload(value),
  ]);
}

function valueOf(body: { payloads: { metadata: Record<string, string>; data: string }[] }): unknown {
  const [first] = body.payloads;
  assert.ok(first);
  return defaultPayloadConverter.fromPayload({
    metadata: Object.fromEntries(
      Object.entries(first.metadata).map(([key, value]) => [key, Buffer.from(value, 'base64')]),
    ),
    data: Buffer.from(first.data, 'base64'),
  });
}

describe('codec server', () => {
  let server: CodecServerHandle;
  let url: string;
  const keyring = new Keyring([oldKey, newKey], 'k2026');

  before(async () => {
    server = await startCodecServer({
      keyring,
      token: TOKEN,
      allowedOrigins: [UI_ORIGIN],
      namespaces: ['default', 'connector'],
      maxBodyBytes: 64 * 1024,
    });
    url = server.url;
  });
  after(() => server.close());

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('refuses callers without the token and opens nothing for them', async () => {
    const body = payloadsToJson(await sealed(keyring, order));
    const attempts: Record<string, string>[] = [
      {},
      { authorization: 'Bearer wrong-token-wrong-token' },
      { cookie: `${SESSION_COOKIE}=1.abc` },
    ];
    for (const headers of attempts) {
      const response = await post('/decode', body, headers);
      assert.equal(response.status, 401);
      const text = await response.text();
      assert.doesNotMatch(text, /Jane Doe|jdoe/);
      assert.match(text, /not authorised/);
    }
  });

  it("decodes with the bearer token, under the UI's query string and the namespace route too", async () => {
    const body = payloadsToJson(await sealed(new Keyring([oldKey], 'k2025'), order));
    for (const path of ['/decode?preserveStorageRefs=true', '/connector/decode']) {
      const response = await post(path, body, { authorization: `Bearer ${TOKEN}` });
      assert.equal(response.status, 200, path);
      assert.deepEqual(valueOf((await response.json()) as never), order);
    }
  });

  it('encodes with the active key, naming it', async () => {
    const body = payloadsToJson([defaultPayloadConverter.toPayload(order)]);
    const response = await post('/encode', body, { authorization: `Bearer ${TOKEN}` });
    assert.equal(response.status, 200);
    const encoded = (await response.json()) as {
      payloads: { metadata: Record<string, string>; data: string }[];
    };
    assert.equal(
      Buffer.from(encoded.payloads[0]?.metadata['encryption-key-id'] ?? '', 'base64').toString(),
      'k2026',
    );
    assert.doesNotMatch(JSON.stringify(encoded), /Jane|amFuZS|SmFuZS/);
    const back = await post('/decode', encoded, { authorization: `Bearer ${TOKEN}` });
    assert.deepEqual(valueOf((await back.json()) as never), order);
  });

  it('names the missing key id, never the data, for a payload sealed with an unknown key', async () => {
    const stranger = new Keyring([{ id: 'k1999', key: randomBytes(32) }], 'k1999');
    const response = await post('/decode', payloadsToJson(await sealed(stranger, order)), {
      authorization: `Bearer ${TOKEN}`,
    });
    assert.equal(response.status, 422);
    const { error } = (await response.json()) as { error: string };
    assert.match(error, /"k1999"/);
    assert.doesNotMatch(error, /Jane|jdoe/);
  });

  it('refuses bodies that are not JSON payloads, too large, or for another namespace', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    assert.equal((await post('/decode', { payloads: 'x' }, auth)).status, 400);
    assert.equal((await post('/decode', '{"payloads":', auth)).status, 400);
    const plain = await fetch(`${url}/decode`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', ...auth },
      body: JSON.stringify({ payloads: [] }),
    });
    assert.equal(plain.status, 415);
    const big = { payloads: [{ metadata: {}, data: Buffer.alloc(100 * 1024).toString('base64') }] };
    assert.equal((await post('/decode', big, auth)).status, 413);
    const other = await post('/decode', { payloads: [] }, { ...auth, 'x-namespace': 'payroll' });
    assert.equal(other.status, 403);
    assert.match(((await other.json()) as { error: string }).error, /"payroll"/);
  });

  it("answers the Web UI's preflight for its origin only, with credentials", async () => {
    const preflight = (origin: string) =>
      fetch(`${url}/decode`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,x-namespace',
        },
      });
    const allowed = await preflight(UI_ORIGIN);
    assert.ok(allowed.status < 300);
    assert.equal(allowed.headers.get('access-control-allow-origin'), UI_ORIGIN);
    assert.equal(allowed.headers.get('access-control-allow-credentials'), 'true');
    assert.match(allowed.headers.get('access-control-allow-headers') ?? '', /X-Namespace/i);
    assert.match(allowed.headers.get('access-control-allow-headers') ?? '', /Authorization/);
    const refused = await preflight('http://evil.example:8233');
    assert.equal(refused.headers.get('access-control-allow-origin'), null);
  });

  it('signs a browser in with the token (an HttpOnly SameSite cookie that holds no token), then decodes for it', async () => {
    const wrong = await fetch(`${url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'token=nope',
    });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get('set-cookie'), null);

    const login = await fetch(`${url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: TOKEN }).toString(),
    });
    assert.equal(login.status, 200);
    const setCookie = login.headers.get('set-cookie') ?? '';
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Strict/);
    assert.doesNotMatch(setCookie, /Secure/, 'a plain-http UI (localhost) needs a cookie sent over http');
    assert.ok(!setCookie.includes(TOKEN), 'the cookie must not hold the token');
    assert.ok(!(await login.text()).includes(TOKEN));
    const cookie = setCookie.split(';')[0] as string;

    const body = payloadsToJson(await sealed(keyring, order));
    const response = await post('/decode', body, { cookie, origin: UI_ORIGIN });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('access-control-allow-origin'), UI_ORIGIN);
    assert.deepEqual(valueOf((await response.json()) as never), order);

    // A forged session (right shape, wrong signature) is refused.
    const [name, value] = cookie.split('=') as [string, string];
    const forged = `${name}=${value.split('.')[0]}.${'A'.repeat(43)}`;
    assert.equal((await post('/decode', body, { cookie: forged })).status, 401);
  });

  it('serves its sign-in page without any secret and a health check without auth', async () => {
    const page = await fetch(`${url}/login`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /name="token"/);
    assert.equal((await fetch(`${url}/health`)).status, 200);
  });
});

describe('codec server for a Web UI served over https', () => {
  it('marks the session cookie Secure (the codec server then sits behind TLS too)', async () => {
    const server = await startCodecServer({
      keyring: new Keyring([oldKey], 'k2025'),
      token: TOKEN,
      allowedOrigins: ['https://temporal.example.com'],
    });
    try {
      const login = await fetch(`${server.url}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: TOKEN }).toString(),
      });
      assert.equal(login.status, 200);
      assert.match(login.headers.get('set-cookie') ?? '', /; Secure/);
    } finally {
      await server.close();
    }
  });
});

describe('codec server without an active key', () => {
  it('decodes but refuses to encode', async () => {
    const keyring = new Keyring([oldKey], undefined);
    const server = await startCodecServer({ keyring, token: TOKEN, allowedOrigins: [] });
    try {
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` };
      const encode = await fetch(`${server.url}/encode`, {
        method: 'POST',
        headers,
        body: JSON.stringify(payloadsToJson([defaultPayloadConverter.toPayload(order)])),
      });
      assert.equal(encode.status, 409);
      const decode = await fetch(`${server.url}/decode`, {
        method: 'POST',
        headers,
        body: JSON.stringify(payloadsToJson(await sealed(new Keyring([oldKey], 'k2025'), order))),
      });
      assert.deepEqual(valueOf((await decode.json()) as never), order);
    } finally {
      await server.close();
    }
  });
});
