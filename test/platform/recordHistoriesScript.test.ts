import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, test } from 'node:test';

const ROOT = path.join(__dirname, '..', '..');

/** The arguments are checked before any server starts, so these runs record nothing. */
function recordHistories(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'scripts/record-histories.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
}

describe('scripts/record-histories.ts arguments', () => {
  test('--help prints the usage and records nothing', () => {
    const run = recordHistories('--help');
    assert.equal(run.status, 0, `${run.stdout}${run.stderr}`);
    assert.match(run.stdout, /^usage: record-histories \[--release <1\.\.\d+>\] \[--add\]$/m);
  });

  test('an unknown argument, first or not, is refused with the usage', () => {
    for (const args of [['--bogus'], ['--add', '--bogus'], ['--bogus', '--release', '1']]) {
      const run = recordHistories(...args);
      assert.equal(run.status, 1, args.join(' '));
      assert.match(run.stderr, /usage: record-histories/, args.join(' '));
    }
  });

  test('a release without scenarios is refused with the usage', () => {
    const run = recordHistories('--release', '99');
    assert.equal(run.status, 1);
    assert.match(run.stderr, /usage: record-histories/);
  });
});
