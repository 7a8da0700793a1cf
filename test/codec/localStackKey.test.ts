import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { parseSettings } from '../../src/config/load';
import {
  ensureLocalEncryption,
  localEncryptionFile,
  readLocalEncryption,
  withLocalStackKey,
} from '../../src/stack/localEncryption';
import { cliEncryption } from '../../src/cli/temporalClient';
import { codecServerKeyring, passwordKeyring } from '../../src/platform/encryption';
import { tempDir } from '../helpers/files';

/** The key `npm start` generates, and how CLI commands of the same data folder find it. */
describe('the local stack payload key', () => {
  test('is generated once, owner-only, and kept across starts', () => {
    const dir = tempDir();
    assert.equal(readLocalEncryption(dir), undefined);
    const first = ensureLocalEncryption(dir, new Date('2026-12-05T10:00:00Z'));
    assert.equal(first.keyId, 'local-20261205');
    assert.equal(Buffer.from(first.key, 'base64').length, 32);
    assert.equal(first.passwordKeyId, 'local-passwords-20261205');
    assert.equal(Buffer.from(first.passwordKey ?? '', 'base64').length, 32);
    assert.notEqual(first.passwordKey, first.key);
    assert.ok(first.codecToken.length >= 32);
    assert.ok((first.pushSecret ?? '').length >= 32);
    assert.equal(statSync(localEncryptionFile(dir)).mode & 0o077, 0);
    assert.deepEqual(ensureLocalEncryption(dir), first);
  });

  test('a file written before password keys gets one on the next start, keeping its payload key and token', () => {
    const dir = tempDir();
    const current = ensureLocalEncryption(dir);
    const older = { keyId: current.keyId, key: current.key, codecToken: current.codecToken };
    writeFileSync(localEncryptionFile(dir), JSON.stringify(older), { mode: 0o600 });
    const upgraded = ensureLocalEncryption(dir);
    assert.equal(upgraded.key, older.key);
    assert.equal(upgraded.codecToken, older.codecToken);
    assert.equal(Buffer.from(upgraded.passwordKey ?? '', 'base64').length, 32);
    assert.deepEqual(readLocalEncryption(dir), upgraded);
  });

  test('a file written before push secrets gets one on the next start, keeping its keys', () => {
    const dir = tempDir();
    const older: Record<string, unknown> = { ...ensureLocalEncryption(dir) };
    delete older.pushSecret;
    writeFileSync(localEncryptionFile(dir), JSON.stringify(older), { mode: 0o600 });
    const upgraded = ensureLocalEncryption(dir);
    assert.deepEqual({ ...upgraded, pushSecret: undefined }, { ...older, pushSecret: undefined });
    assert.ok((upgraded.pushSecret ?? '').length >= 32);
    assert.deepEqual(readLocalEncryption(dir), upgraded);
  });

  test('CLI settings without keys use it (EncryptOrders on); settings with keys of their own are kept', () => {
    const dir = tempDir();
    const local = ensureLocalEncryption(dir);
    const plain = parseSettings({ TicketConnector: { DataDirectory: dir } }, 'test');
    const encryption = withLocalStackKey(plain).TicketConnector.Encryption;
    assert.deepEqual(encryption.Keys, { [local.keyId]: local.key });
    assert.equal(encryption.ActiveKey, local.keyId);
    assert.equal(encryption.EncryptOrders, true);
    // Password resets get the local password key, which the codec server never holds; the CLI finds it too.
    assert.deepEqual(encryption.PasswordKeys, { [local.passwordKeyId ?? '']: local.passwordKey });
    assert.equal(passwordKeyring(cliEncryption(plain)).activeId, local.passwordKeyId);
    assert.deepEqual(codecServerKeyring(encryption).ids, [local.keyId]);

    const own = parseSettings(
      {
        TicketConnector: {
          DataDirectory: dir,
          Encryption: { Keys: { mine: randomBytes(32).toString('base64') } },
        },
      },
      'test',
    );
    assert.equal(withLocalStackKey(own), own);
    const elsewhere = parseSettings({ TicketConnector: { DataDirectory: tempDir() } }, 'test');
    assert.equal(withLocalStackKey(elsewhere), elsewhere);
  });
});
