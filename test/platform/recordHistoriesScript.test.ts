import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { historyJSON, loadHistoryFile } from '../../src/audit/histories';
import { encryptionKeyIds } from '../../src/audit/historyDecoding';
import { Keyring } from '../../src/codec/keyring';
import { AesGcmPayloadCodec } from '../../src/codec/payloadCodec';
import {
  assertNoPassword,
  PasswordLeftInHistoryError,
  WITHHELD,
  withholdPasswords,
} from '../../scripts/record-histories/withholdPasswords';
import { readme, type Manifest } from '../../scripts/record-histories/manifest';
import { scenarioKinds, scenarios } from '../../scripts/record-histories/scenarios';

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

describe('scripts/record-histories: the release folders', () => {
  test("each release's README is what the recorder writes from its manifest and scenarios", () => {
    const releases = [...new Set(scenarios.map((scenario) => scenario.release))];
    const recorded = releases.filter((release) =>
      existsSync(path.join(ROOT, 'test', 'histories', `release-${release}`, 'recorded.manifest')),
    );
    assert.ok(recorded.includes(4), 'release 4 has a manifest');
    for (const release of recorded) {
      const dir = path.join(ROOT, 'test', 'histories', `release-${release}`);
      const manifest = JSON.parse(readFileSync(path.join(dir, 'recorded.manifest'), 'utf8')) as Manifest;
      assert.equal(
        readFileSync(path.join(dir, 'README.md'), 'utf8'),
        readme(release, manifest, scenarioKinds(release)),
        `release ${release}`,
      );
    }
  });

  test('the sweep scenario of release 4 is recorded as runs of its workflow id, its README says so', () => {
    assert.deepEqual(scenarioKinds(4), { password: [], sweep: ['ticket-sweep'] });
    const manifest = JSON.parse(
      readFileSync(path.join(ROOT, 'test', 'histories', 'release-4', 'recorded.manifest'), 'utf8'),
    ) as Manifest;
    assert.deepEqual(manifest['ticket-sweep']?.files, ['ticket-sweep-run1.json', 'ticket-sweep-run2.json']);
    assert.match(readme(4, manifest, scenarioKinds(4)), /^Sweep scenarios \(ticket-sweep\): /m);
    assert.doesNotMatch(readme(4, manifest, { password: [], sweep: [] }), /Sweep scenarios/);
  });
});

describe('scripts/record-histories: a password history is opened, its password withheld and checked', () => {
  const PASSWORD = 'Dummy-"Pa55"&word/+é';
  const keyring = new Keyring([{ id: 'recording', key: randomBytes(32) }], 'recording');
  const codec = new AesGcmPayloadCodec(keyring, { encrypt: true });

  /** A committed plain history whose started event's input becomes `payload`. */
  function historyWithInput(payload: Payload) {
    const run = loadHistoryFile(path.join(ROOT, 'test', 'histories', 'release-1', 'revoked.json'));
    const started = run.history.events?.[0]?.workflowExecutionStartedEventAttributes;
    assert.ok(started?.input?.payloads?.[0], 'the committed history has an input');
    started.input.payloads[0] = payload;
    return run.history;
  }

  test('a sealed input is opened and holds the marker instead of the password; the check passes', async () => {
    const [sealed] = await codec.encode([
      defaultPayloadConverter.toPayload({
        order: { Changes: { InitialPassword: PASSWORD } },
        note: PASSWORD,
      }),
    ]);
    assert.ok(sealed !== undefined);
    const history = historyWithInput(sealed);
    assert.deepEqual(encryptionKeyIds(history), ['recording']);
    await withholdPasswords(history, keyring, [PASSWORD], 'test');
    assert.deepEqual(encryptionKeyIds(history), []);
    const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    assert.deepEqual(defaultPayloadConverter.fromPayload(input ?? {}), {
      order: { Changes: { InitialPassword: WITHHELD } },
      note: WITHHELD,
    });
    const json = historyJSON(history);
    assert.doesNotThrow(() => assertNoPassword('test', json, [PASSWORD]));
  });

  test('the check fails, never naming the password, when a form of it is left anywhere', () => {
    // Each written into the file as a JSON string value: as is (so JSON-escaped), URL-encoded, base64, base64url.
    const forms = [
      PASSWORD,
      encodeURIComponent(PASSWORD),
      Buffer.from(PASSWORD).toString('base64'),
      Buffer.from(PASSWORD).toString('base64url'),
    ];
    for (const form of forms) {
      const history = historyWithInput(defaultPayloadConverter.toPayload('x'));
      const json = historyJSON(history).replace('"eventId"', `"note":${JSON.stringify(form)},"eventId"`);
      assert.throws(
        () => assertNoPassword('scenario-x', json, [PASSWORD]),
        (error: unknown) => {
          assert.ok(error instanceof PasswordLeftInHistoryError);
          assert.match(
            error.message,
            /^scenario-x: a dummy password is still in the history \(in the file text\)/,
          );
          assert.ok(!error.message.includes(PASSWORD));
          return true;
        },
        form,
      );
    }
  });

  test('the check finds the password inside a payload that is not JSON (base64 at any offset)', async () => {
    for (const prefix of ['', 'a', 'ab']) {
      const payload = {
        metadata: { encoding: Buffer.from('binary/plain') },
        data: Buffer.from(`${prefix}${PASSWORD} and more`),
      };
      const history = historyWithInput(payload);
      await withholdPasswords(history, keyring, [PASSWORD], 'test');
      assert.throws(
        () => assertNoPassword('scenario-y', historyJSON(history), [PASSWORD]),
        // Aligned (no prefix), the base64 of the password is in the file text as well.
        prefix === ''
          ? /^PasswordLeftInHistoryError: scenario-y: .*\(in the file text\)/
          : /^PasswordLeftInHistoryError: scenario-y: .*\(in a base64 field of event 1\)/,
        `prefix ${JSON.stringify(prefix)}`,
      );
    }
  });
});
