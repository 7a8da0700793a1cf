import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { toActivityFailure } from '../../src/activities/failures';
import { parseSettings } from '../../src/config/load';
import {
  provisioningSettings,
  resourceTypeMappings,
  serviceNowClients,
  serviceNowConnections,
} from '../../src/platform/adapters';
import { UnknownConnectionError } from '../../src/servicenow/connection';

const settings = parseSettings(
  {
    Connections: {
      Real: { Server: 'https://a.service-now.com/api/now/table', Login: 'a', Password: 'b' },
      Token: {
        Server: 'https://b.service-now.com/api/now/table',
        ClientId: 'id',
        ClientSecret: 'secret',
        OAuth2Url: 'https://b.service-now.com/oauth_token.do',
        ResponseSizeLimit: '200',
      },
    },
    TicketConnector: {
      Polling: { FirstCheckAfter: '2m' },
      Reminders: { Every: '1d' },
      Budget: { Workers: '2', Connections: { Token: { CallsPerSecond: '3', CallsPerHour: '600' } } },
      ResourceTypeMappings: {
        SAP_Role: { Connection: 'Real', CallerId: 'svc', TitleTemplate: 't', DescriptionTemplate: 'd' },
      },
    },
  },
  'test settings',
);

describe('ServiceNow clients by connection name', () => {
  test('a connection named like an Object.prototype member is unknown unless configured, and not retried', () => {
    const clients = serviceNowClients(settings);
    for (const name of ['constructor', 'toString', 'hasOwnProperty', '__proto__']) {
      assert.throws(
        () => clients(name),
        (error: unknown) => {
          assert.ok(error instanceof UnknownConnectionError, `${name}: ${String(error)}`);
          assert.equal(
            error.message,
            `Connection '${name}' is not defined under Connections (defined: Real, Token)`,
          );
          const failure = toActivityFailure(error);
          assert.equal(failure.type, 'UnknownConnection');
          assert.equal(failure.nonRetryable, true);
          return true;
        },
      );
    }
  });
});

describe('settings become adapter options in one place', () => {
  test('each connection gets its client options: Basic or OAuth, and its share of the call budget', () => {
    assert.deepEqual(Object.fromEntries(serviceNowConnections(settings)), {
      Real: {
        tableApiUrl: 'https://a.service-now.com/api/now/table',
        credentials: { kind: 'basic', login: 'a', password: 'b' },
        pageSize: 1000,
        connection: 'Real',
        // Default (10 per second, 20000 per hour), shared by two workers.
        budget: { callsPerSecond: 5, callsPerHour: 10_000 },
      },
      Token: {
        tableApiUrl: 'https://b.service-now.com/api/now/table',
        credentials: {
          kind: 'oauth',
          tokenUrl: 'https://b.service-now.com/oauth_token.do',
          clientId: 'id',
          clientSecret: 'secret',
          login: undefined,
          password: undefined,
        },
        pageSize: 200,
        connection: 'Token',
        budget: { callsPerSecond: 1.5, callsPerHour: 300 },
      },
    });
  });

  test('mappings by resource type, and the provisioning settings in the shape each plan keeps', () => {
    const mappings = resourceTypeMappings(settings);
    assert.deepEqual([...mappings.keys()], ['SAP_Role']);
    assert.equal(mappings.get('constructor'), undefined);
    assert.deepEqual(provisioningSettings(settings), {
      outcomes: settings.TicketConnector.Outcomes,
      polling: { firstCheckAfterMs: 120_000, maxIntervalMs: 86_400_000, backoffCoefficient: 2, jitter: 0.1 },
      reminders: { firstAfterMs: undefined, everyMs: 86_400_000 },
      deadline: { afterMs: undefined, outcome: 'Errored', cancelTicket: true },
    });
  });

  test('the safety poll defaults to a day while the sweep runs, an hour without it, and a given interval wins', () => {
    const polling = (connector: Record<string, unknown>) =>
      provisioningSettings(parseSettings({ TicketConnector: { Polling: {}, ...connector } }, 'test')).polling
        .maxIntervalMs;
    assert.equal(polling({}), 86_400_000);
    assert.equal(polling({ Sweep: { Enabled: false } }), 3_600_000);
    assert.equal(polling({ Polling: { MaxInterval: '2h' } }), 7_200_000);
  });
});
