import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, test } from 'node:test';
import { tempDir, writeJson } from '../helpers/files';

const root = path.join(__dirname, '..', '..');
const cli = path.join(root, 'bin', 'snow-ticket.js');
const PASSWORD = 'Pa55-word-that-must-not-leak';

const run = (file: string) =>
  spawnSync(process.execPath, [cli, '--config', file, 'config', 'check'], {
    encoding: 'utf8',
    timeout: 60_000,
  });

function settings(mappings: Record<string, Record<string, string>>) {
  const withDefaults = Object.fromEntries(
    Object.entries(mappings).map(([type, fields]) => [
      type,
      {
        Connection: 'Main',
        CallerId: 'svc',
        TitleTemplate: '{{ChangeType}}',
        DescriptionTemplate: 'Do it',
        ...fields,
      },
    ]),
  );
  return {
    Connections: {
      Main: { Server: 'https://acme.service-now.com/api/now/table', Login: 'svc', Password: PASSWORD },
    },
    TicketConnector: { ResourceTypeMappings: withDefaults },
  };
}

describe('snow-ticket config check: ticket templates', () => {
  test('exits 2 and names every broken template by resource type and template name', () => {
    const file = writeJson(
      tempDir(),
      'templates.json',
      settings({
        SAP_Role: { TitleTemplate: '{{#ifCond ChangeType "==" "Added"}}grant{{/if' },
        AD_Group: { DescriptionTemplate: "{{#ifCond ChangeType 'eq' 'Added'}}grant{{/ifCond}}" },
        Fine_Type: {},
      }),
    );
    const result = run(file);
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /Invalid configuration in .*templates\.json \(2 problems\)/);
    assert.match(
      result.stderr,
      /- TicketConnector\.ResourceTypeMappings\.SAP_Role\.TitleTemplate: Parse error on line 1 near /,
    );
    assert.match(
      result.stderr,
      /- TicketConnector\.ResourceTypeMappings\.AD_Group\.DescriptionTemplate: ifCond at line 1, column 1: unknown operator "eq"/,
    );
    assert.doesNotMatch(result.stderr, /at .*\.ts:\d+/, 'no stack trace for a template error');
    assert.ok(!`${result.stdout}${result.stderr}`.includes(PASSWORD));
    assert.equal(result.stdout, '');
  });

  test('the example settings file passes, templates included', () => {
    const result = run(path.join(root, 'config', 'appsettings.agent.example.json'));
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /Resource types: SAP_Role_Manual/);
  });
});
