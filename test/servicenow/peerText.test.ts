/**
 * What a ServiceNow instance (or a proxy in front of it) writes into its error answers reaches failures, logs and
 * workflow state: it must come out short, and without any form of a credential the connector sent.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { useLoopbackServer, type Handler } from '../helpers/loopbackServer';
import { toActivityFailure } from '../../src/activities/failures';
import { MAX_MESSAGE_LENGTH } from '../../src/contract/limits';
import { ServiceNowClient, type ServiceNowClientOptions } from '../../src/servicenow/client';
import { renderings, serviceNowFailure } from '../helpers/serviceNowErrors';

const PASSWORD = `Echo&Pa55 "word"+/<7731>`;
const CLIENT_SECRET = 'Client+Secret/With Spaces&"quotes"';
const SYS_ID = 'b'.repeat(32);
const HUGE = 'x'.repeat(3 * 1024 * 1024);
let handler: Handler = (_request, response) => response.end();
const server = useLoopbackServer((request, response) => handler(request, response));

function client(credentials?: ServiceNowClientOptions['credentials']): ServiceNowClient {
  return new ServiceNowClient({
    tableApiUrl: `${server.url}/api/now/table`,
    credentials: credentials ?? { kind: 'basic', login: 'connector', password: PASSWORD },
  });
}

/** A client of the OAuth client-credentials grant, whose token endpoint is the scripted server too. */
function oauthClient(): ServiceNowClient {
  return client({
    kind: 'oauth',
    tokenUrl: `${server.url}/oauth_token.do`,
    clientId: 'connector',
    clientSecret: CLIENT_SECRET,
  });
}

function json(status: number, body: unknown): Handler {
  return (_request, response) => {
    response.writeHead(status, { 'Content-Type': 'application/json' });
    response.end(JSON.stringify(body));
  };
}

function htmlEscaped(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Every way a careless server or proxy writes a secret back. */
function echoes(secret: string): string[] {
  return [
    secret,
    encodeURIComponent(secret),
    new URLSearchParams({ s: secret }).toString().slice(2),
    Buffer.from(secret).toString('base64'),
    htmlEscaped(secret),
  ];
}

function assertAbsent(texts: readonly string[], secrets: readonly string[]): void {
  for (const text of texts) {
    for (const secret of secrets) assert.ok(!text.includes(secret), `a secret form leaked: ${text}`);
  }
}

describe('ServiceNow error text is short and secret-free', () => {
  test('a 400 with a 3 MB message and detail gives a failure message of at most MAX_MESSAGE_LENGTH', async () => {
    handler = json(400, { error: { message: HUGE, detail: HUGE }, status: 'failure' });
    const error = await serviceNowFailure(() => client().getTicket('incident', SYS_ID));
    assert.equal(error.status, 400);
    assert.ok(error.message.length <= MAX_MESSAGE_LENGTH, `message is ${error.message.length} characters`);
    assert.ok(error.message.startsWith('ServiceNow read on incident'), error.message);
    assert.match(error.message, /xxx…/);
    const failure = toActivityFailure(error);
    assert.ok(
      failure.message.length <= MAX_MESSAGE_LENGTH,
      `failure is ${failure.message.length} characters`,
    );
    const details = JSON.stringify(failure.details);
    assert.ok(details.length <= 3 * MAX_MESSAGE_LENGTH, `details are ${details.length} characters`);
  });

  test('a token endpoint refusing with a 3 MB error_description gives a short auth error', async () => {
    handler = json(401, { error: 'invalid_client', error_description: HUGE });
    const error = await serviceNowFailure(() => oauthClient().getTicket('incident', SYS_ID));
    assert.equal(error.kind, 'auth');
    assert.ok(error.message.length <= MAX_MESSAGE_LENGTH, `message is ${error.message.length} characters`);
  });

  test('URL-encoded, form-encoded, base64 and HTML-escaped echoes of the password and Basic header are masked', async () => {
    const basic = `connector:${PASSWORD}`;
    const secrets = [...echoes(PASSWORD), ...echoes(basic)];
    handler = (request, response) => {
      response.writeHead(400, { 'Content-Type': 'application/json' });
      const said = `you sent ${String(request.headers.authorization)} / ${secrets.join(' | ')}`;
      response.end(JSON.stringify({ error: { message: said, detail: htmlEscaped(said) } }));
    };
    const error = await serviceNowFailure(() => client().getTicket('incident', SYS_ID));
    assert.match(error.message, /you sent Basic \[redacted\]/);
    assertAbsent(renderings(error), secrets);
    assertAbsent(renderings(toActivityFailure(error)), secrets);
  });

  test('encoded echoes of the OAuth client secret in an error_description are masked', async () => {
    const secrets = echoes(CLIENT_SECRET);
    handler = json(401, { error: 'invalid_client', error_description: `got ${secrets.join(' | ')}` });
    const error = await serviceNowFailure(() => oauthClient().getTicket('incident', SYS_ID));
    assert.match(error.message, /got \[redacted\]/);
    assertAbsent(renderings(error), secrets);
  });
});
