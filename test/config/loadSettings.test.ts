import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig, loadSettings } from '../../src/config/load';
import { loadCertificate } from '../../src/credentials/certificates';
import { encryptValue } from '../../src/credentials/envelope';
import { tempDir, writeJson } from '../helpers/files';
import { expectNoSecret } from '../helpers/secretScan';
import { makeEncryptionCertificate, writePem } from '../credentials/fixtures/certificates';

const PASSWORD = 'file-password-to-hide';
const ENCRYPTED = 'encrypted-password-to-hide';
const server = 'https://acme.service-now.com/api/now/table';
const encryption = makeEncryptionCertificate();

async function refused(work: Promise<unknown>): Promise<ConfigError> {
  try {
    await work;
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    expectNoSecret(error.message, [PASSWORD, ENCRYPTED], 'the error');
    return error;
  }
  assert.fail('expected the settings to be refused');
}

describe('loadSettings', () => {
  test('without stores it gives what loadConfig gives, and names the file or variable of each value', async () => {
    const dir = tempDir();
    const file = writeJson(dir, 'appsettings.agent.json', {
      Connections: { Main: { Server: server, Login: 'svc', Password: PASSWORD } },
    });
    const env = { SNOW_CONNECTOR__connections__main__login: 'svc-env', TEMPORAL_TASK_QUEUE: 'eu' };
    const loaded = await loadSettings({ file, env, cwd: dir });
    assert.deepEqual(loaded.settings, loadConfig({ file, env, cwd: dir }).settings);
    assert.equal(loaded.settings.Connections.Main?.Login, 'svc-env', 'matched case-insensitively');
    assert.deepEqual(Object.fromEntries(loaded.sources), {
      'Connections.Main.Server': `file ${file}`,
      'Connections.Main.Login': 'environment variable SNOW_CONNECTOR__connections__main__login',
      'Connections.Main.Password': `file ${file}`,
      'TicketConnector.Temporal.TaskQueue': 'environment variable TEMPORAL_TASK_QUEUE',
    });
    assert.equal(loaded.live.current(), loaded.settings);
  });

  test('the encrypted file beside the settings file overrides it; EncryptionCertificate.File is relative to it', async () => {
    const dir = tempDir();
    writePem(dir, 'settings.pem', encryption);
    const key = loadCertificate({ File: path.join(dir, 'settings.pem') }, 'EncryptionCertificate');
    const file = writeJson(dir, 'appsettings.agent.json', {
      Connections: { Main: { Server: server, Login: 'svc', Password: PASSWORD } },
      EncryptionCertificate: { File: 'settings.pem', Password: '' },
    });
    writeJson(dir, 'appsettings.encrypted.agent.json', {
      Connections: { Main: { Password: encryptValue(ENCRYPTED, 'Connections.Main.Password', key) } },
    });
    const loaded = await loadSettings({ file, env: {}, cwd: tempDir() });
    assert.equal(loaded.settings.Connections.Main?.Password, ENCRYPTED);
    assert.equal(loaded.settings.EncryptionCertificate?.File, 'settings.pem');
  });

  test('an encrypted file without EncryptionCertificate, or one that sets it, is refused by setting', async () => {
    const dir = tempDir();
    writePem(dir, 'settings.pem', encryption);
    const key = loadCertificate({ File: path.join(dir, 'settings.pem') }, 'EncryptionCertificate');
    const file = writeJson(dir, 'appsettings.agent.json', {
      Connections: { Main: { Server: server, Login: 'svc', Password: PASSWORD } },
    });
    writeJson(dir, 'appsettings.encrypted.agent.json', {
      Connections: { Main: { Password: encryptValue(ENCRYPTED, 'Connections.Main.Password', key) } },
      EncryptionCertificate: { File: 'settings.pem' },
    });
    const error = await refused(loadSettings({ file, env: {}, cwd: dir }));
    assert.deepEqual(error.problems, [
      'Connections.Main.Password: cannot be decrypted: EncryptionCertificate is not configured',
      'EncryptionCertificate.File: EncryptionCertificate cannot come from the file it decrypts; set it in the settings file',
    ]);
  });

  test('SNOW_CONNECTOR_ENCRYPTED_CONFIG names the encrypted file; when it is missing, that is an error', async () => {
    const dir = tempDir();
    const file = writeJson(dir, 'appsettings.agent.json', {
      Connections: { Main: { Server: server, Login: 'svc', Password: PASSWORD } },
      EncryptionCertificate: { File: 'absent.pem' },
    });
    const error = await refused(
      loadSettings({ file, env: { SNOW_CONNECTOR_ENCRYPTED_CONFIG: 'secrets/enc.json' }, cwd: dir }),
    );
    assert.match(error.message, /EncryptionCertificate\.File: the file .*absent\.pem does not exist/);
    writePem(dir, 'absent.pem', encryption);
    const missing = await refused(
      loadSettings({ file, env: { SNOW_CONNECTOR_ENCRYPTED_CONFIG: 'secrets/enc.json' }, cwd: dir }),
    );
    assert.equal(missing.source, path.join(dir, 'secrets/enc.json'));
    assert.deepEqual(missing.problems, ['the file does not exist']);
  });

  test('store sections are strict and their problems are named by key', async () => {
    const dir = tempDir();
    const file = writeJson(dir, 'appsettings.agent.json', {
      AzureKeyVault: { Vault: 'http://vault.example.com', Tenant: 'x' },
    });
    const error = await refused(loadSettings({ file, env: {}, cwd: dir }));
    assert.deepEqual(error.problems, [
      'AzureKeyVault.Vault: must use https (plain http is allowed for loopback addresses only); expected the vault URL, e.g. https://<name>.vault.azure.net',
      'AzureKeyVault.Tenant: is not a known setting (check the spelling)',
    ]);
  });
});
