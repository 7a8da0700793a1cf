import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import vm from 'node:vm';
import { parseNotice } from '../../src/push/notice';
import { checkSignature, SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../src/push/signature';

/**
 * The Script Include of deploy/servicenow/ run in a Node sandbox, with stand-ins for the few Glide APIs it calls
 * (behaving as documented: generateMac takes a base64 key and returns base64). Not ServiceNow, but it checks that
 * what the script sends is what the receiver verifies and parses.
 */

const SCRIPT = readFileSync(
  path.join(__dirname, '..', '..', 'deploy', 'servicenow', 'ticket_changed_outbound.js'),
  'utf8',
);
const SECRET = 'ServiceNow-side-secret-0123456789abcdef';
const ENDPOINT = 'https://connector.example.com/servicenow/ticket-changed';

interface SentRequest {
  endpoint?: string;
  method?: string;
  headers: Record<string, string>;
  body?: string;
  midServer?: string;
  sentAsync: boolean;
}

function runScript(record: Record<string, string>, properties: Record<string, string>) {
  const sent: SentRequest[] = [];
  const warnings: string[] = [];
  const sandbox = {
    Class: {
      create: () =>
        function (this: { initialize: () => void }) {
          this.initialize();
        },
    },
    gs: {
      getProperty: (name: string, fallback: string) => properties[name] ?? fallback,
      warn: (message: string) => warnings.push(message),
    },
    GlideStringUtil: { base64Encode: (text: string) => Buffer.from(text, 'utf8').toString('base64') },
    GlideCertificateEncryption: function () {
      return {
        generateMac: (key: string, algorithm: string, data: string) => {
          assert.equal(algorithm, 'HmacSHA256');
          return createHmac('sha256', Buffer.from(key, 'base64')).update(data, 'utf8').digest('base64');
        },
      };
    },
    GlideRecord: function () {
      let found: string | undefined;
      return {
        get: (field: string, value: string) => {
          assert.equal(field, 'name');
          found = properties[value];
          return found !== undefined;
        },
        get value() {
          return { getDecryptedValue: () => found };
        },
      };
    },
    sn_ws: {
      RESTMessageV2: function () {
        const request: SentRequest = { headers: {}, sentAsync: false };
        sent.push(request);
        return {
          setEndpoint: (url: string) => (request.endpoint = url),
          setHttpMethod: (method: string) => (request.method = method),
          setHttpTimeout: () => undefined,
          setRequestHeader: (name: string, value: string) => (request.headers[name] = value),
          setRequestBody: (body: string) => (request.body = body),
          setMIDServer: (name: string) => (request.midServer = name),
          executeAsync: () => (request.sentAsync = true),
        };
      },
    },
    record: {
      getValue: (field: string) => record[field] ?? null,
      getTableName: () => record.table,
      getUniqueValue: () => record.sys_id,
    },
  };
  vm.runInNewContext(`${SCRIPT}\nnew SnowTicketConnectorPush().notify(record);`, sandbox);
  return { sent, warnings };
}

const TICKET = {
  table: 'incident',
  sys_id: '0123456789abcdef0123456789abcdef',
  number: 'INC0010001',
  sys_mod_count: '5',
  correlation_display: 'snow-ticket-connector',
  correlation_id: 'Sim:1001:added:é-ü',
  short_description: 'never sent',
};
const PROPERTIES = {
  'snow_ticket_connector.push.endpoint': ENDPOINT,
  'snow_ticket_connector.push.secret': SECRET,
};

describe('deploy/servicenow Script Include (in a sandbox)', () => {
  test('posts a notice the receiver verifies and parses, with identifiers only', () => {
    const { sent, warnings } = runScript(TICKET, PROPERTIES);
    assert.deepEqual(warnings, []);
    const [request] = sent;
    assert.ok(request?.body !== undefined);
    assert.equal(request.endpoint, ENDPOINT);
    assert.equal(request.method?.toUpperCase(), 'POST');
    assert.equal(request.headers['Content-Type'], 'application/json');
    assert.equal(request.sentAsync, true);
    assert.equal(request.midServer, undefined);
    assert.match(request.body, /^[\x20-\x7e]+$/, 'ASCII only: non-ASCII is escaped');
    const body = Buffer.from(request.body, 'utf8');
    const verified = checkSignature(
      { timestamp: request.headers[TIMESTAMP_HEADER], signature: request.headers[SIGNATURE_HEADER], body },
      SECRET,
      new Date(),
      60_000,
    );
    assert.equal(verified.ok, true);
    assert.deepEqual(parseNotice(body), {
      ok: true,
      notice: {
        table: 'incident',
        sysId: TICKET.sys_id,
        number: 'INC0010001',
        sysModCount: 5,
        correlationId: TICKET.correlation_id,
      },
    });
    assert.ok(!request.body.includes('never sent') && !request.body.includes(SECRET));
  });

  test('sends nothing for tickets of others, and warns without a secret when not configured', () => {
    assert.deepEqual(runScript({ ...TICKET, correlation_display: 'other' }, PROPERTIES).sent, []);
    const unconfigured = runScript(TICKET, { 'snow_ticket_connector.push.endpoint': ENDPOINT });
    assert.deepEqual(unconfigured.sent, []);
    assert.match(unconfigured.warnings.join('\n'), /set snow_ticket_connector\.push\.endpoint and .*secret/);
  });

  test('goes through the MID Server when one is named', () => {
    const { sent } = runScript(TICKET, { ...PROPERTIES, 'snow_ticket_connector.push.mid_server': 'mid-1' });
    assert.equal(sent[0]?.midServer, 'mid-1');
  });
});
