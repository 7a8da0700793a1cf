import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError } from '../../src/config/configError';
import { loadCertificate } from '../../src/credentials/certificates';
import {
  decryptValue,
  DecryptionError,
  encryptValue,
  ENCRYPTED_PREFIX,
} from '../../src/credentials/envelope';
import { tempDir } from '../helpers/files';
import { expectNoSecret } from '../helpers/secretScan';
import { makeEncryptionCertificate, writePem, writePfx } from './fixtures/certificates';

const SECRET = 'Pa55/wörd+with "quotes" & more=';
const PFX_PASSWORD = 'pfx-password-not-to-leak';

const dir = tempDir();
const owner = makeEncryptionCertificate('owner');
const other = makeEncryptionCertificate('other');
const pem = loadCertificate({ File: writePem(dir, 'owner.pem', owner) }, 'EncryptionCertificate');
const otherKey = loadCertificate({ File: writePem(dir, 'other.pem', other) }, 'EncryptionCertificate');

function decryptionError(work: () => unknown): DecryptionError {
  try {
    work();
  } catch (error) {
    assert.ok(error instanceof DecryptionError, `expected a DecryptionError, got ${String(error)}`);
    expectNoSecret(error.message, [SECRET], 'the error');
    return error;
  }
  assert.fail('expected the value to be refused');
}

describe('encrypted setting values', () => {
  test('round trip, bound to the setting path whatever its case', () => {
    const value = encryptValue(SECRET, 'Connections.Main.Password', pem);
    assert.ok(value.startsWith(ENCRYPTED_PREFIX));
    expectNoSecret(value, [SECRET], 'the encrypted value');
    assert.equal(decryptValue(value, 'connections.main.password', pem, 'here'), SECRET);
    assert.notEqual(
      encryptValue(SECRET, 'Connections.Main.Password', pem),
      value,
      'a fresh key and IV each time',
    );
  });

  test('a value of another certificate is told apart from a corrupted one', () => {
    const value = encryptValue(SECRET, 'Connections.Main.Password', otherKey);
    const error = decryptionError(() =>
      decryptValue(value, 'Connections.Main.Password', pem, 'Connections.Main.Password in x.json'),
    );
    assert.equal(error.problem, 'wrong-certificate');
    assert.match(
      error.message,
      /^Connections\.Main\.Password in x\.json: the value was encrypted for another certificate/,
    );
  });

  test('a value moved to another setting does not decrypt there', () => {
    const value = encryptValue(SECRET, 'Connections.Main.Password', pem);
    const error = decryptionError(() =>
      decryptValue(value, 'Connections.Other.Password', pem, 'Connections.Other.Password'),
    );
    assert.equal(error.problem, 'moved');
    assert.match(error.message, /encrypted for another setting/);
  });

  test('any changed byte, or a truncated value, is reported as corrupted', () => {
    const value = encryptValue(SECRET, 'A.B', pem);
    const binary = Buffer.from(value.slice(ENCRYPTED_PREFIX.length), 'base64');
    // Past the header: the wrapped key, the IV, the tag and the ciphertext.
    for (const offset of [20, binary.length - 30, binary.length - 20, binary.length - 1]) {
      const changed = Buffer.from(binary);
      changed[offset] = (changed[offset] ?? 0) ^ 0x01;
      const error = decryptionError(() =>
        decryptValue(ENCRYPTED_PREFIX + changed.toString('base64'), 'A.B', pem, 'A.B'),
      );
      assert.equal(error.problem, 'corrupted', `byte ${offset}`);
    }
    assert.equal(
      decryptionError(() => decryptValue(value.slice(0, 40), 'A.B', pem, 'A.B')).problem,
      'corrupted',
    );
    assert.equal(decryptionError(() => decryptValue(`${value}!`, 'A.B', pem, 'A.B')).problem, 'corrupted');
  });

  test('a certificate without its private key encrypts but cannot decrypt', () => {
    const publicOnly = loadCertificate(
      { File: writePem(dir, 'public.pem', owner, false) },
      'EncryptionCertificate',
    );
    const value = encryptValue(SECRET, 'A.B', publicOnly);
    assert.equal(decryptValue(value, 'A.B', pem, 'A.B'), SECRET);
    assert.equal(
      decryptionError(() => decryptValue(value, 'A.B', publicOnly, 'A.B')).problem,
      'no-private-key',
    );
  });
});

describe('certificates', () => {
  test('PFX (PKCS#12) and PEM with a separate KeyFile load the same key', () => {
    const pfx = loadCertificate(
      { File: writePfx(dir, 'owner.pfx', owner, PFX_PASSWORD), Password: PFX_PASSWORD },
      'EncryptionCertificate',
    );
    const keyFile = path.join(dir, 'owner.key');
    writeFileSync(keyFile, owner.keyPem);
    const split = loadCertificate(
      { File: writePem(dir, 'owner.crt', owner, false), KeyFile: keyFile },
      'EncryptionCertificate',
    );
    assert.deepEqual(pfx.keyId, pem.keyId);
    assert.deepEqual(split.keyId, pem.keyId);
    const value = encryptValue(SECRET, 'A.B', pem);
    assert.equal(decryptValue(value, 'A.B', pfx, 'A.B'), SECRET);
    assert.equal(decryptValue(value, 'A.B', split, 'A.B'), SECRET);
  });

  test('a wrong PFX password, a missing file or a key of another certificate name the setting, not the password', () => {
    const file = writePfx(dir, 'locked.pfx', owner, PFX_PASSWORD);
    const cases: [Parameters<typeof loadCertificate>[0], RegExp][] = [
      [
        { File: file, Password: 'wrong-password-123' },
        /EncryptionCertificate\.File: the PFX file cannot be opened: Password is missing or wrong/,
      ],
      [
        { File: path.join(dir, 'absent.pem') },
        /EncryptionCertificate\.File: the file .*absent\.pem does not exist/,
      ],
      [
        { File: writePem(dir, 'owner-only.crt', owner, false), KeyFile: writePem(dir, 'other.key', other) },
        /EncryptionCertificate\.KeyFile: the private key does not belong to the certificate/,
      ],
    ];
    for (const [settings, expected] of cases) {
      assert.throws(
        () => loadCertificate(settings, 'EncryptionCertificate'),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError);
          assert.match(error.message, expected);
          expectNoSecret(error.message, [PFX_PASSWORD, 'wrong-password-123'], 'the error');
          return true;
        },
      );
    }
  });
});
