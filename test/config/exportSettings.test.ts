/** `TicketConnector.Exports.<Connection>`: validation at load, defaults, and how a run is planned from it. */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig, parseSettings } from '../../src/config/load';
import { DEFAULT_EXPORT_FIELDS } from '../../src/export/fields';
import { resolveExportSettings } from '../../src/platform/exportSettings';
import type { SettingsFile } from '../../src/config/schema';
import type { ExportInput } from '../../src/contract/export';
import { InvalidExportInputError } from '../../src/export/errors';
import { planExport } from '../../src/export/plan';
import { UnknownConnectionError } from '../../src/servicenow/connection';
import { IDENTITY_TABLES } from '../../src/servicenow/tables';
import { tempDir, writeJson } from '../helpers/files';

const DATA = path.resolve('/srv/connector-data');

function settings(exports?: Record<string, unknown>, connection: Record<string, unknown> = {}) {
  return parseSettings(
    {
      Connections: {
        Main: {
          Server: 'https://acme.service-now.com/api/now/table',
          Login: 'svc',
          Password: 'not-a-real-password',
          ...connection,
        },
        Other: { Server: 'https://other.service-now.com/api/now/table', Login: 'a', Password: 'b' },
      },
      TicketConnector: { DataDirectory: DATA, ...(exports === undefined ? {} : { Exports: exports }) },
    },
    'test settings',
  );
}

/** Plans a run as the worker does: the connection's settings resolved, then the input applied. */
function plan(file: SettingsFile, input: ExportInput) {
  return planExport(resolveExportSettings(file, input.connection), input);
}

function problemsOf(exports: Record<string, unknown>): string[] {
  try {
    settings(exports);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems;
  }
  return assert.fail('the settings should be refused');
}

describe('export settings', () => {
  test('a connection without Exports gets every default', () => {
    const resolved = resolveExportSettings(settings(), 'Main');
    assert.deepEqual(resolved, {
      dataDirectory: DATA,
      outputDirectory: path.join(DATA, 'exports'),
      cookieDirectory: path.join(DATA, 'cookies'),
      tables: [...IDENTITY_TABLES],
      fields: DEFAULT_EXPORT_FIELDS,
      filters: {},
      overlapMs: 5 * 60_000,
      complete: false,
      neutralizeFormulas: true,
    });
    assert.deepEqual(DEFAULT_EXPORT_FIELDS.sys_user_grmember, ['sys_id', 'user', 'group', 'sys_updated_on']);
  });

  test('folders: relative to DataDirectory; the cookie folder falls back to TicketCookieDirectoryPath', () => {
    const withReferencePath = settings({}, { TicketCookieDirectoryPath: '/var/lib/snow-cookies' });
    assert.equal(resolveExportSettings(withReferencePath, 'Main').cookieDirectory, '/var/lib/snow-cookies');
    const relativeReference = settings({}, { TicketCookieDirectoryPath: 'state' });
    assert.equal(resolveExportSettings(relativeReference, 'Main').cookieDirectory, path.join(DATA, 'state'));
    const own = settings(
      { Main: { OutputDirectory: '/exports/snow', CookieDirectory: 'watermarks' } },
      { TicketCookieDirectoryPath: '/ignored' },
    );
    const resolved = resolveExportSettings(own, 'Main');
    assert.equal(resolved.outputDirectory, '/exports/snow');
    assert.equal(resolved.cookieDirectory, path.join(DATA, 'watermarks'));
  });

  test('tables, fields, filters, overlap, complete and formula neutralising as configured', () => {
    const resolved = resolveExportSettings(
      settings({
        Main: {
          Tables: ['sys_user_group', 'sys_user'],
          Fields: { sys_user: ['sys_id', 'user_name', 'u_badge_number'] },
          Filters: ['sys_user#active=true^ORDERBYuser_name', 'sys_user_group#nameSTARTSWITHApp^ORtype=itil'],
          Overlap: '10m',
          Complete: 'true',
          NeutralizeFormulas: 'false',
        },
      }),
      'Main',
    );
    assert.deepEqual(resolved.tables, ['sys_user_group', 'sys_user']);
    assert.deepEqual(resolved.fields.sys_user, ['sys_id', 'user_name', 'u_badge_number']);
    assert.deepEqual(resolved.fields.sys_user_group, DEFAULT_EXPORT_FIELDS.sys_user_group);
    assert.deepEqual(resolved.filters, {
      sys_user: 'active=true^ORDERBYuser_name',
      sys_user_group: 'nameSTARTSWITHApp^ORtype=itil',
    });
    assert.equal(resolved.overlapMs, 600_000);
    assert.equal(resolved.complete, true);
    assert.equal(resolved.neutralizeFormulas, false);
  });

  test('every problem is reported by key, naming the filter and the field, never the value', () => {
    const problems = problemsOf({
      Main: {
        Tables: ['sys_user', 'incident'],
        Fields: {
          sys_user: ['user_nme', 'user_password', 'name', 'name'],
          sys_user_role: [],
          incident: ['x'],
        },
        Filters: [
          'sys_user#user_nme=Sup3rSecretValue',
          'active=true',
          'incident#active=true',
          'sys_user_group#name=javascript:gs.getUser()',
          'sys_user_grmember#user.user_name=jdoe',
          'sys_user_role#u_custom=1',
          'sys_user_has_role#',
          'sys_user_group#name=line\nbreak',
          'sys_user_group#sys_created_on>2024@2025',
          'sys_user#active=false',
        ],
        Overlap: 'soon',
        Complete: 'yes',
        NeutralizeFormulas: 'off',
        OutputDirectory: '',
        Schedule: 'daily',
      },
    });
    const expected: [string, RegExp][] = [
      ['Main.Tables.1', /must be one of sys_user, /],
      ['Main.Fields.incident', /is not a known setting/],
      ['Main.Fields.sys_user', /'user_nme' is not a field of sys_user/],
      ['Main.Fields.sys_user', /'user_password' cannot be exported/],
      ['Main.Fields.sys_user', /names name more than once/],
      ['Main.Fields.sys_user_role', /at least one field/],
      ['Main.Filters.0', /filter on sys_user: .*'user_nme'.*not an allowed field/],
      ['Main.Filters.1', /must be written table#encodedQuery/],
      ['Main.Filters.2', /filter on 'incident': the table must be one of/],
      ['Main.Filters.3', /filter on sys_user_group: .*'name'.*javascript/],
      ['Main.Filters.4', /filter on sys_user_grmember: .*'user\.user_name'/],
      ['Main.Filters.5', /filter on sys_user_role: .*'u_custom'.*not an allowed field/],
      ['Main.Filters.6', /filter on sys_user_has_role: the encoded query is empty/],
      ['Main.Filters.7', /control character/],
      ['Main.Filters.8', /'@' cannot be escaped/],
      ['Main.Filters.9', /filter on sys_user: only one filter per table/],
      ['Main.Overlap', /positive duration/],
      ['Main.Complete', /true or false/],
      ['Main.NeutralizeFormulas', /true or false/],
      ['Main.OutputDirectory', /must not be empty/],
      ['Main.Schedule', /is not a known setting/],
    ];
    for (const [key, message] of expected) {
      assert.ok(
        problems.some(
          (problem) => problem.startsWith(`TicketConnector.Exports.${key}: `) && message.test(problem),
        ),
        `${key} ${String(message)} in:\n${problems.join('\n')}`,
      );
    }
    assert.equal(problems.length, expected.length, problems.join('\n'));
    assert.ok(!problems.join('\n').includes('Sup3rSecretValue'), 'filter values are never printed');
  });

  test('lists can be given as .NET indexed sections, as environment overrides write them', () => {
    const file = writeJson(tempDir(), 'appsettings.agent.json', {
      Connections: {
        Main: { Server: 'https://acme.service-now.com/api/now/table', Login: 'a', Password: 'b' },
      },
      TicketConnector: { Exports: { Main: { Tables: ['sys_user'] } } },
    });
    const { settings: loaded } = loadConfig({
      file,
      env: {
        SNOW_CONNECTOR__TicketConnector__Exports__Main__Tables__1: 'sys_user_grmember',
        SNOW_CONNECTOR__TicketConnector__Exports__Main__Tables__0: 'sys_user_group',
        SNOW_CONNECTOR__TicketConnector__Exports__Main__Filters__0: 'sys_user_group#active=true',
        SNOW_CONNECTOR__TicketConnector__Exports__Main__Fields__sys_user_group__0: 'sys_id',
        SNOW_CONNECTOR__TicketConnector__Exports__Main__Fields__sys_user_group__1: 'name',
      },
    });
    const resolved = resolveExportSettings(loaded, 'Main');
    assert.deepEqual(resolved.tables, ['sys_user_group', 'sys_user_grmember']);
    assert.deepEqual(resolved.filters, { sys_user_group: 'active=true' });
    assert.deepEqual(resolved.fields.sys_user_group, ['sys_id', 'name']);
  });

  test('Exports keys must name defined connections', () => {
    const problems = problemsOf({ Nope: {}, constructor: {} });
    assert.deepEqual(problems.sort(), [
      'TicketConnector.Exports.Nope: names a connection that is not defined under Connections',
      'TicketConnector.Exports.constructor: names a connection that is not defined under Connections',
    ]);
  });

  test('a run is planned per table, with the input overriding tables, mode and folder', () => {
    const configured = settings({
      Main: { Tables: ['sys_user', 'sys_user_grmember'], Filters: ['sys_user#active=true'], Overlap: '2m' },
    });
    const planned = plan(configured, { connection: 'Main' });
    assert.equal(planned.mode, 'incremental');
    assert.deepEqual(planned.tables, [
      {
        connection: 'Main',
        table: 'sys_user',
        mode: 'incremental',
        outputDirectory: path.join(DATA, 'exports'),
        fields: DEFAULT_EXPORT_FIELDS.sys_user,
        filter: 'active=true',
        overlapMs: 120_000,
        neutralizeFormulas: true,
      },
      {
        connection: 'Main',
        table: 'sys_user_grmember',
        mode: 'incremental',
        outputDirectory: path.join(DATA, 'exports'),
        fields: DEFAULT_EXPORT_FIELDS.sys_user_grmember,
        overlapMs: 120_000,
        neutralizeFormulas: true,
      },
    ]);
    const chosen = plan(configured, {
      connection: 'Main',
      complete: true,
      tables: ['sys_user_role', 'sys_user', 'sys_user_role'],
      outputDirectory: 'exports/adhoc',
    });
    assert.equal(chosen.mode, 'complete');
    assert.deepEqual(
      chosen.tables.map((table) => [table.table, table.mode, table.outputDirectory]),
      [
        ['sys_user_role', 'complete', path.join(DATA, 'exports', 'adhoc')],
        ['sys_user', 'complete', path.join(DATA, 'exports', 'adhoc')],
      ],
    );
    assert.equal(plan(settings({ Other: { Complete: true } }), { connection: 'Other' }).mode, 'complete');
    assert.equal(
      plan(settings({ Other: { Complete: true } }), { connection: 'Other', complete: false }).mode,
      'incremental',
    );
    assert.throws(
      () => plan(configured, { connection: 'Main', tables: ['incident'] }),
      InvalidExportInputError,
    );
    assert.throws(() => plan(configured, { connection: 'Main', tables: [] }), InvalidExportInputError);
    assert.throws(() => plan(configured, { connection: 'Missing' }), UnknownConnectionError);
  });

  test('a run may choose the configured output folder or one beneath it, nothing else', () => {
    const configured = settings({ Main: { OutputDirectory: '/srv/idm/in' } });
    for (const requested of ['../../../etc/cron.d', '/etc/cron.d', '/srv/idm/in/../other', 'adhoc']) {
      assert.throws(
        () => plan(configured, { connection: 'Main', outputDirectory: requested }),
        (error: unknown) =>
          error instanceof InvalidExportInputError &&
          error.message.startsWith(`outputDirectory ${JSON.stringify(requested)} is outside`) &&
          error.message.includes('/srv/idm/in') &&
          error.message.includes('TicketConnector.Exports.Main.OutputDirectory'),
        requested,
      );
    }
    assert.deepEqual(
      ['/srv/idm/in', '/srv/idm/in/adhoc/', '/srv/idm/in/./a/../b'].map(
        (requested) =>
          plan(configured, { connection: 'Main', outputDirectory: requested }).tables[0]?.outputDirectory,
      ),
      ['/srv/idm/in', '/srv/idm/in/adhoc', '/srv/idm/in/b'],
    );
  });
});
