import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { sourceLines } from '../../src/cli/configCommands';
import { ConfigError } from '../../src/config/configError';
import { loadSettings, type LoadedSettings } from '../../src/config/load';
import { loadCertificate } from '../../src/credentials/certificates';
import { encryptValue } from '../../src/credentials/envelope';
import { CredentialStoreError } from '../../src/credentials/errors';
import type { StoreOptions } from '../../src/credentials/resolve';
import { tempDir } from '../helpers/files';
import { expectNoSecret } from '../helpers/secretScan';
import {
  makeCa,
  makeClientCertificate,
  makeEncryptionCertificate,
  makeServerCertificate,
  writePem,
  writePfx,
} from './fixtures/certificates';
import { useFakeCyberArk } from './fixtures/fakeCyberArk';
import { useFakeKeyVault } from './fixtures/fakeKeyVault';
import { connection, localStores, writeSettings } from './fixtures/setup';

const FILE_PASSWORD = 'file-password-1234';
const ENCRYPTED_PASSWORD = 'encrypted/pass+word=1';
const ENCRYPTED_LOGIN = 'svc-from-encrypted-file';
const VAULT_PASSWORD = 'vault "pass" wörd & co';
const VAULT_LOGIN = 'svc-login-from-vault';
const CYBERARK_PASSWORD = 'cyberark-pass?word#9';
const ENV_PASSWORD = 'environment-password-7';
const PFX_PASSWORD = 'client-pfx-password-3';
const SECRETS = [
  FILE_PASSWORD,
  ENCRYPTED_PASSWORD,
  ENCRYPTED_LOGIN,
  VAULT_PASSWORD,
  VAULT_LOGIN,
  CYBERARK_PASSWORD,
  ENV_PASSWORD,
  PFX_PASSWORD,
];

const ca = makeCa();
const serverCertificate = makeServerCertificate(ca);
const clientCertificate = makeClientCertificate(ca, 'snow-ticket-agent');
const encryption = makeEncryptionCertificate();
const vault = useFakeKeyVault(() => serverCertificate);
const ccp = useFakeCyberArk(() => ({ server: serverCertificate, ca, clientName: 'snow-ticket-agent' }));
const tokens = { count: 0 };
const stores = (): StoreOptions => localStores(vault, ca, tokens);

interface Setup {
  readonly dir: string;
  readonly file: string;
  readonly encryptedFile: string;
}

/**
 * A settings folder using every store: Main's password comes from the encrypted file, Other's from the vault
 * (over the encrypted file), Third's from CyberArk (over the vault), Fourth's from the environment (over CyberArk).
 */
function setup(changes: { settings?: Record<string, unknown>; cyberArkFile?: unknown } = {}): Setup {
  const dir = tempDir();
  mkdirSync(path.join(dir, 'certs'));
  writePem(dir, 'certs/settings.pem', encryption);
  writePfx(dir, 'certs/agent.pfx', clientCertificate, PFX_PASSWORD);
  const key = loadCertificate({ File: path.join(dir, 'certs/settings.pem') }, 'EncryptionCertificate');
  const file = writeSettings(dir, 'appsettings.agent.json', {
    Connections: {
      Main: connection('svc', FILE_PASSWORD),
      Other: connection('svc2'),
      Third: connection('svc3'),
      Fourth: connection('svc4'),
    },
    EncryptionCertificate: { File: 'certs/settings.pem' },
    AzureKeyVault: { Vault: vault.url },
    CyberArk: {
      Server: ccp.url,
      ApplicationId: ccp.applicationId,
      Safe: ccp.safe,
      ClientCertificate: { File: 'certs/agent.pfx', Password: PFX_PASSWORD },
    },
    ...changes.settings,
  });
  const encryptedFile = writeSettings(dir, 'appsettings.encrypted.agent.json', {
    Connections: {
      Main: {
        Password: encryptValue(ENCRYPTED_PASSWORD, 'Connections.Main.Password', key),
        Login: encryptValue(ENCRYPTED_LOGIN, 'Connections.Main.Login', key),
      },
      Other: { Password: encryptValue(ENCRYPTED_PASSWORD, 'Connections.Other.Password', key) },
    },
  });
  writeSettings(
    dir,
    'appsettings.cyberark.agent.json',
    changes.cyberArkFile ?? {
      Connections: { Third: { Password: 'SnowThird' }, Fourth: { Password: 'SnowFourth' } },
    },
  );
  vault.secrets.clear();
  vault.secrets.set('Connections--Other--Password', { value: VAULT_PASSWORD, enabled: true });
  vault.secrets.set('Connections--Third--Password', { value: 'overridden-by-cyberark', enabled: true });
  vault.secrets.set('connections--main--login', { value: VAULT_LOGIN, enabled: true });
  vault.secrets.set('Connections--Main--Password', { value: 'a disabled secret', enabled: false });
  vault.secrets.set('UnrelatedSecret', { value: 'ignored at the top level', enabled: true });
  vault.failWith = undefined;
  ccp.accounts.clear();
  ccp.accounts.set('SnowThird', CYBERARK_PASSWORD);
  ccp.accounts.set('SnowFourth', 'overridden-by-environment');
  return { dir, file, encryptedFile };
}

const env = { SNOW_CONNECTOR__Connections__Fourth__Password: ENV_PASSWORD };

async function refused(work: Promise<unknown>): Promise<ConfigError> {
  try {
    await work;
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    expectNoSecret(error.message, SECRETS, 'the error');
    return error;
  }
  assert.fail('expected the settings to be refused');
}

describe('settings from every credential store', () => {
  let loaded: LoadedSettings;
  let paths: Setup;

  test('each source overrides the previous: file < encrypted file < Key Vault < CyberArk < environment', async () => {
    paths = setup();
    loaded = await loadSettings({ file: paths.file, env, cwd: paths.dir, stores: stores() });
    const { Connections } = loaded.settings;
    assert.equal(Connections.Main?.Password, ENCRYPTED_PASSWORD);
    assert.equal(
      Connections.Main?.Login,
      VAULT_LOGIN,
      'a vault name matches the file key case-insensitively',
    );
    assert.equal(Connections.Other?.Password, VAULT_PASSWORD);
    assert.equal(Connections.Third?.Password, CYBERARK_PASSWORD);
    assert.equal(Connections.Fourth?.Password, ENV_PASSWORD);
    assert.equal(vault.counts.get('list'), 3, 'five secrets, two per page: three pages followed by nextLink');
    assert.ok((vault.counts.get('challenge') ?? 0) >= 1, 'the client answered the authentication challenge');
  });

  test('where each value came from is known, and never holds a value', () => {
    const sources = Object.fromEntries(loaded.sources);
    assert.equal(sources['Connections.Main.Password'], `encrypted settings file ${paths.encryptedFile}`);
    assert.equal(
      sources['Connections.Main.Login'],
      `Azure Key Vault ${vault.url} (secret connections--main--login)`,
    );
    assert.equal(
      sources['Connections.Other.Password'],
      `Azure Key Vault ${vault.url} (secret Connections--Other--Password)`,
    );
    assert.equal(
      sources['Connections.Third.Password'],
      `CyberArk ${ccp.url} (safe ${ccp.safe}), object SnowThird`,
    );
    assert.equal(
      sources['Connections.Fourth.Password'],
      'environment variable SNOW_CONNECTOR__Connections__Fourth__Password',
    );
    assert.equal(sources['Connections.Main.Server'], `file ${paths.file}`);
    const lines = sourceLines(loaded.sources).join('\n');
    assert.match(lines, /Connections\.Third\.Password: CyberArk .*object SnowThird/);
    assert.match(lines, /CyberArk\.ClientCertificate\.Password: file /);
    expectNoSecret(JSON.stringify([...loaded.sources]), SECRETS, 'the sources');
    expectNoSecret(lines, SECRETS, 'config check lines');
  });

  test('a missing CyberArk object names the setting, the object and the store', async () => {
    const { file, dir } = setup({
      cyberArkFile: {
        Connections: { Third: { Password: 'SnowThird' }, Fourth: { Password: 'Absent-Object' } },
      },
    });
    const error = await refused(loadSettings({ file, env, cwd: dir, stores: stores() }));
    assert.ok(error instanceof CredentialStoreError);
    assert.match(
      error.message,
      /^Cannot read settings from CyberArk https:\/\/127\.0\.0\.1:\d+ \(safe IdentityManager\)/,
    );
    assert.match(
      error.message,
      /Connections\.Fourth\.Password \(object Absent-Object\): CyberArk answered HTTP 404 APPAP004E: Password object matching/,
    );
  });

  test('a client certificate CyberArk does not know is refused at the TLS handshake, named as such', async () => {
    const stranger = makeClientCertificate(makeCa('another CA'), 'snow-ticket-agent');
    const { file, dir } = setup();
    writePfx(dir, 'certs/agent.pfx', stranger, PFX_PASSWORD);
    const error = await refused(loadSettings({ file, env, cwd: dir, stores: stores() }));
    assert.match(
      error.message,
      /Connections\.Third\.Password \(object SnowThird\): the provider refused the TLS connection/,
    );
  });

  test('a vault refusing access, or out of reach, names the store and what to do', async () => {
    const { file, dir } = setup();
    vault.failWith = 403;
    const forbidden = await refused(loadSettings({ file, env, cwd: dir, stores: stores() }));
    assert.match(forbidden.message, new RegExp(`Cannot read settings from Azure Key Vault ${vault.url}`));
    assert.match(forbidden.message, /the secrets cannot be listed: the vault refused access \(HTTP 403\)/);
    vault.failWith = undefined;

    const closed = setup({ settings: { AzureKeyVault: { Vault: 'https://127.0.0.1:9' } } });
    const unreachable = await refused(
      loadSettings({ file: closed.file, env, cwd: closed.dir, stores: stores() }),
    );
    assert.match(
      unreachable.message,
      /Azure Key Vault https:\/\/127\.0\.0\.1:9 .*\n.*the secrets cannot be listed: the vault cannot be reached \(ECONNREFUSED\)/,
    );
  });

  test('a secret that disappears between listing and reading names the setting and the secret', async () => {
    const { file, dir } = setup();
    const original = vault.secrets.get.bind(vault.secrets);
    let listed = false;
    // The listing sees it; the read does not.
    vault.secrets.set('Connections--Gone--Password', { value: 'vanished-secret', enabled: true });
    vault.secrets.get = (name: string) => {
      if (name === 'Connections--Gone--Password' && listed) return undefined;
      listed = listed || name === 'connections--main--login';
      return original(name);
    };
    try {
      const error = await refused(loadSettings({ file, env, cwd: dir, stores: stores() }));
      assert.match(
        error.message,
        /Connections\.Gone\.Password \(secret Connections--Gone--Password\): cannot be read: the secret does not exist \(HTTP 404\)/,
      );
    } finally {
      vault.secrets.get = original;
    }
  });

  test('an encrypted value for another certificate, or moved, names the setting and the file', async () => {
    const { file, dir, encryptedFile } = setup();
    const other = loadCertificate(
      { File: writePem(dir, 'other.pem', makeEncryptionCertificate('other')) },
      'x',
    );
    const own = loadCertificate({ File: path.join(dir, 'certs/settings.pem') }, 'x');
    writeSettings(dir, 'appsettings.encrypted.agent.json', {
      Connections: {
        Main: { Password: encryptValue(ENCRYPTED_PASSWORD, 'Connections.Main.Password', other) },
        Other: { Password: encryptValue(ENCRYPTED_PASSWORD, 'Connections.Main.Password', own) },
        Third: { Password: 'plain-text-value' },
      },
    });
    const error = await refused(loadSettings({ file, env, cwd: dir, stores: stores() }));
    assert.ok(
      error.message.startsWith(
        `Cannot read settings from encrypted settings file ${encryptedFile} (3 problems)`,
      ),
      error.message,
    );
    assert.match(
      error.message,
      /- Connections\.Main\.Password: the value was encrypted for another certificate/,
    );
    assert.match(
      error.message,
      /- Connections\.Other\.Password: the value was encrypted for another setting/,
    );
    assert.match(error.message, /- Connections\.Third\.Password: is not an encrypted value/);
  });

  test('a store value that fails validation is reported with its setting and source, masked', async () => {
    const { file, dir } = setup();
    vault.secrets.set('Connections--Other--Server', {
      value: `http://svc:${VAULT_PASSWORD}@acme.example.com/`,
      enabled: true,
    });
    const error = await refused(loadSettings({ file, env, cwd: dir, stores: stores() }));
    assert.match(error.message, /with values from .*Azure Key Vault/);
    assert.match(error.message, /Connections\.Other\.Server: must use https/);
  });

  test('store settings are validated by name before any store is asked', async () => {
    const { file, dir } = setup({
      settings: { CyberArk: { Server: 'http://ccp.example.com', Safe: 'S', Sfae: 'x' } },
    });
    const before = ccp.requests;
    const error = await refused(loadSettings({ file, env, cwd: dir, stores: stores() }));
    for (const expected of [
      /CyberArk\.Server: must use https/,
      /CyberArk\.ApplicationId: /,
      /CyberArk\.Sfae: is not a known setting/,
      /CyberArk\.ClientCertificate: /,
    ]) {
      assert.match(error.message, expected);
    }
    assert.equal(ccp.requests, before);
  });
});
