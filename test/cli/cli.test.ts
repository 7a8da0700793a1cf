import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, test } from 'node:test';

const cli = path.join(__dirname, '..', '..', 'bin', 'snow-ticket.js');
const run = (...args: string[]) =>
  spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000 });

describe('snow-ticket', () => {
  for (const command of [[], ['config'], ['config', 'check'], ['self-check']]) {
    test(`${['snow-ticket', ...command].join(' ')} --help describes itself`, () => {
      const result = run(...command, '--help');
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`^Usage: snow-ticket ${command.join(' ')}`.trimEnd()));
    });
  }

  test('rejects a bad option value by name before connecting anywhere', () => {
    const result = run('self-check', '--timeout', 'soon');
    assert.notEqual(result.status, 0);
    assert.match(
      result.stderr,
      /option '--timeout <seconds>' argument 'soon' is invalid\. expected a whole number of seconds/,
    );
  });
});
