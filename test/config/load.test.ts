import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/load';
import { resolveTemporalTarget } from '../../src/config/temporalConnection';
import { tempDir, writeJson } from '../helpers/files';

const SECRET_PASSWORD = 'Pa55-word-that-must-not-leak';
const SECRET_CLIENT = 'client-secret-that-must-not-leak';

const validFile = {
  Logging: { LogLevel: { Default: 'Information' } },
  Connections: {
    ServiceNowFulfill: {
      Server: 'https://acme.service-now.com/api/now/table',
      Login: 'svc',
      Password: SECRET_PASSWORD,
      ClientId: '',
      ClientSecret: '',
      OAuth2Url: '',
      ResponseSizeLimit: '5000',
    },
    'Local.Sim-1': {
      Server: 'http://127.0.0.1:8099/api/now/table',
      ClientId: 'id',
      ClientSecret: SECRET_CLIENT,
      OAuth2Url: 'http://localhost:8099/oauth_token.do',
    },
  },
  TicketConnector: {
    Polling: { FirstCheckAfter: '2m', MaxInterval: '2h', BackoffCoefficient: '1.5', Jitter: '0.2' },
    ResourceTypeMappings: {
      SAP_Role: {
        Connection: 'ServiceNowFulfill',
        CallerId: 'svc',
        TitleTemplate: '{{ChangeType}}',
        DescriptionTemplate: 'Please do it',
        TicketSynchroIsNotAvailable: 'true',
      },
    },
  },
};

const brokenFile = {
  Connections: {
    '9lives': { Server: 'https://x.service-now.com/api/now/table', Login: 'a', Password: SECRET_PASSWORD },
    Plain: {
      Server: 'http://acme.service-now.com/api/now/table',
      Login: 'svc',
      Pasword: SECRET_PASSWORD,
      ResponseSizeLimit: 'lots',
    },
    HalfOAuth: {
      Server: 'https://acme.service-now.com/',
      ClientId: 'id',
      ClientSecret: SECRET_CLIENT,
    },
  },
  TicketConnector: {
    Polling: { FirstCheckAfter: 'soon', Jitter: '3' },
    ResourceTypeMappings: {
      SAP_Role: {
        Connection: 'Nowhere',
        CallerId: '',
        TitleTemplate: 't',
        DescriptionTemplate: 'd',
        Impact: 'Huge',
      },
    },
  },
};

function load(content: unknown, env: NodeJS.ProcessEnv = {}) {
  const dir = tempDir();
  return loadConfig({ file: writeJson(dir, 'appsettings.agent.json', content), env });
}

function problemsOf(content: unknown, env: NodeJS.ProcessEnv = {}): ConfigError {
  try {
    load(content, env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the settings to be rejected');
}

describe('settings file', () => {
  test('accepts comments and trailing commas, as .NET configuration does', () => {
    const { settings } = load(
      '{\n  // local overrides\n  "TicketConnector": { "DataDirectory": "state", },\n}',
    );
    assert.equal(settings.TicketConnector.DataDirectory, 'state');
  });

  test('loads a reference-compatible file with string values and keeps unrelated sections', () => {
    const { settings } = load(validFile);
    const main = settings.Connections.ServiceNowFulfill;
    assert.equal(main?.ResponseSizeLimit, 5000);
    assert.equal(main?.ClientSecret, undefined, 'empty strings count as unset');
    assert.equal(settings.Connections['Local.Sim-1']?.ResponseSizeLimit, 1000);
    assert.deepEqual(settings.TicketConnector.Polling, {
      FirstCheckAfter: 120_000,
      MaxInterval: 7_200_000,
      BackoffCoefficient: 1.5,
      Jitter: 0.2,
    });
    const mapping = settings.TicketConnector.ResourceTypeMappings.SAP_Role;
    assert.equal(mapping?.Table, 'incident');
    assert.equal(mapping?.Impact, 'Low');
    assert.equal(mapping?.TicketSynchroIsNotAvailable, true);
  });

  test('a Server URL with credentials in it is refused without echoing them', () => {
    const message = problemsOf({
      Connections: {
        Main: {
          Server: `https://svc:${SECRET_PASSWORD}@acme.service-now.com/api/now/table`,
          Login: 'a',
          Password: 'b',
        },
      },
    }).message;
    assert.match(message, /Connections\.Main\.Server: must not contain credentials/);
    assert.ok(!message.includes(SECRET_PASSWORD));
  });

  test('runs on embedded defaults when no file exists', () => {
    const config = loadConfig({ env: {}, cwd: tempDir() });
    assert.equal(config.file, undefined);
    assert.deepEqual(config.settings.Connections, {});
    assert.equal(config.settings.TicketConnector.Temporal.TaskQueue, 'servicenow-tickets');
  });

  test('reports every bad key at once, with what is expected, and never a secret', () => {
    const error = problemsOf(brokenFile);
    const report = error.message;
    const expectations: [string, RegExp][] = [
      ['Connections.9lives', /start with a letter/],
      ['Connections.Plain.Server', /must use https/],
      ['Connections.Plain.Pasword', /not a known setting/],
      ['Connections.Plain.ResponseSizeLimit', /whole number from 1 to 10000/],
      ['Connections.Plain.Password', /Login and Password go together/],
      ['Connections.HalfOAuth.OAuth2Url', /OAuth needs ClientId, ClientSecret and OAuth2Url together/],
      ['Connections.HalfOAuth.Server', /must end with \/api\/now\/table/],
      ['TicketConnector.Polling.FirstCheckAfter', /positive duration/],
      ['TicketConnector.Polling.Jitter', /at most 0.5/],
      ['TicketConnector.ResourceTypeMappings.SAP_Role.CallerId', /must not be empty/],
      ['TicketConnector.ResourceTypeMappings.SAP_Role.Impact', /Low, Medium or High/],
    ];
    for (const [key, message] of expectations) {
      const line = report.split('\n').find((candidate) => candidate.includes(`- ${key}:`));
      assert.ok(line, `report names ${key}:\n${report}`);
      assert.match(line, message);
    }
    assert.equal(error.problems.length, expectations.length, report);
    assert.ok(!report.includes(SECRET_PASSWORD) && !report.includes(SECRET_CLIENT), report);
  });

  test('checks cross references once the file is otherwise valid', () => {
    const file = structuredClone(validFile);
    file.TicketConnector.ResourceTypeMappings.SAP_Role.Connection = 'Nowhere';
    assert.match(
      problemsOf(file).message,
      /TicketConnector\.ResourceTypeMappings\.SAP_Role\.Connection: names a connection that is not defined/,
    );
  });

  test('explains a file that is not JSON or missing, without quoting its text', () => {
    const broken = problemsOf(`{\n  "Connections": {\n    "A": { "Password": ${SECRET_PASSWORD} }\n  }\n}`);
    assert.match(broken.message, /^ {2}- line 3, column 24: the file is not valid JSON \(InvalidSymbol\)$/m);
    assert.equal(broken.problems.length, 1);
    assert.ok(!broken.message.includes(SECRET_PASSWORD), broken.message);
    assert.throws(
      () => loadConfig({ file: path.join(tempDir(), 'absent.json'), env: {} }),
      /the file does not exist/,
    );
  });

  test('environment variables override file values, .NET style', () => {
    const { settings } = load(validFile, {
      SNOW_CONNECTOR__Connections__ServiceNowFulfill__Password: 'from-env',
      SNOW_CONNECTOR__TicketConnector__Polling__MaxInterval: '3h',
      TEMPORAL_TASK_QUEUE: 'tickets-eu',
    });
    assert.equal(settings.Connections.ServiceNowFulfill?.Password, 'from-env');
    assert.equal(settings.TicketConnector.Polling.MaxInterval, 10_800_000);
    assert.equal(settings.TicketConnector.Temporal.TaskQueue, 'tickets-eu');
  });

  test('a bad override is reported as coming from the environment', () => {
    const error = problemsOf(validFile, {
      SNOW_CONNECTOR__Connections__ServiceNowFulfill__Server: 'ftp://x',
    });
    assert.match(error.message, /with environment overrides/);
    assert.match(error.message, /Connections\.ServiceNowFulfill\.Server: must use https/);
  });
});

describe('names that are also members of every JavaScript object', () => {
  const mapping = (connection: string) => ({
    Connection: connection,
    CallerId: 'svc',
    TitleTemplate: '{{ChangeType}}',
    DescriptionTemplate: 'Please do it',
  });
  const server = { Server: 'https://acme.service-now.com/api/now/table', Login: 'svc', Password: 'pw' };

  test('connections and resource types named constructor, toString or hasOwnProperty load as written', () => {
    const { settings } = load(
      {
        Connections: { constructor: server, toString: server },
        TicketConnector: {
          ResourceTypeMappings: { constructor: mapping('toString'), hasOwnProperty: mapping('constructor') },
        },
      },
      { SNOW_CONNECTOR__Connections__constructor__Password: 'from-env' },
    );
    assert.deepEqual(Object.keys(settings.Connections).sort(), ['constructor', 'toString']);
    const connections = new Map(Object.entries(settings.Connections));
    const mappings = new Map(Object.entries(settings.TicketConnector.ResourceTypeMappings));
    assert.equal(connections.get('constructor')?.Password, 'from-env');
    assert.equal(mappings.get('constructor')?.Connection, 'toString');
    assert.equal(mappings.get('hasOwnProperty')?.Connection, 'constructor');
  });

  test('a mapping naming a connection that only Object.prototype has is refused', () => {
    for (const name of ['constructor', 'valueOf', 'hasOwnProperty']) {
      const error = problemsOf({
        Connections: { Real: server },
        TicketConnector: { ResourceTypeMappings: { SAP_Role: mapping(name) } },
      });
      assert.match(
        error.message,
        /TicketConnector\.ResourceTypeMappings\.SAP_Role\.Connection: names a connection that is not defined/,
        name,
      );
    }
  });

  test('a section named __proto__ is refused with its line, not dropped or turned into a prototype', () => {
    const text = [
      '{',
      '  "Connections": { "Real": { "Server": "https://a.service-now.com/api/now/table", "Login": "a", "Password": "b" } },',
      '  "TicketConnector": { "ResourceTypeMappings": {',
      '    "__proto__": { "Connection": "Real", "CallerId": "svc", "TitleTemplate": "t", "DescriptionTemplate": "d" }',
      '  } }',
      '}',
    ].join('\n');
    const error = problemsOf(text);
    assert.deepEqual(error.problems, [
      'line 4, column 5: "__proto__" cannot be used as a name (JavaScript reserves it); rename it',
    ]);
  });
});

describe('Temporal connection', () => {
  const settings = load({
    TicketConnector: { Temporal: { Address: 'temporal.internal:7233', Namespace: 'idm' } },
  }).settings;

  test('uses the settings file when the environment says nothing', () => {
    const target = resolveTemporalTarget(settings, { HOME: tempDir() });
    assert.equal(target.connectionOptions.address, 'temporal.internal:7233');
    assert.equal(target.namespace, 'idm');
    assert.equal(target.connectionOptions.tls, undefined);
  });

  test('follows the standard TEMPORAL_* variables first', () => {
    const target = resolveTemporalTarget(settings, {
      HOME: tempDir(),
      TEMPORAL_ADDRESS: 'acme.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'acme.prod',
      TEMPORAL_API_KEY: 'key-123',
    });
    assert.equal(target.connectionOptions.address, 'acme.tmprl.cloud:7233');
    assert.equal(target.namespace, 'acme.prod');
    assert.equal(target.connectionOptions.apiKey, 'key-123');
    assert.equal(target.connectionOptions.tls, true, 'an API key implies TLS');
  });
});

describe('snow-ticket config check', () => {
  const cli = path.join(__dirname, '..', '..', 'bin', 'snow-ticket.js');
  const run = (file: string) =>
    spawnSync(process.execPath, [cli, '--config', file, 'config', 'check'], {
      encoding: 'utf8',
      timeout: 60_000,
    });

  test('exits 2 with the report for a broken file, without secrets', () => {
    const result = run(writeJson(tempDir(), 'broken.json', brokenFile));
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /Invalid configuration in .*broken\.json \(11 problems\)/);
    assert.doesNotMatch(result.stderr, /at .*\.ts:\d+/, 'no stack trace for a config error');
    assert.ok(!`${result.stdout}${result.stderr}`.includes(SECRET_PASSWORD));
  });

  test('exits 0 and summarises a valid file', () => {
    const result = run(writeJson(tempDir(), 'good.json', validFile));
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /Connections: ServiceNowFulfill, Local\.Sim-1/);
    assert.ok(!result.stdout.includes(SECRET_PASSWORD));
  });
});
