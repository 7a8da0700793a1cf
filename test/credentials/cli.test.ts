/**
 * The credential stores end to end, as an operator meets them: `snow-ticket protect` and `snow-ticket config check`
 * run as child processes, reaching the local vault with DefaultAzureCredential (App Service managed identity
 * variables) under an Azure vault name (resolved to 127.0.0.1 by a preload, as a hosts entry would), so that the
 * client checks the challenge as in Azure, and trusting the test CA through NODE_EXTRA_CA_CERTS.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { loadSettings } from '../../src/config/load';
import { tempDir } from '../helpers/files';
import { runCli, type CliResult } from '../helpers/cli';
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
import { useFakeKeyVault, writeHostsPreload } from './fixtures/fakeKeyVault';
import { connection, writeSettings } from './fixtures/setup';

const MAIN_PASSWORD = 'main+pass/word="quoted"';
const VAULT_PASSWORD = 'vault-secret-value-42';
const CYBERARK_PASSWORD = 'cyberark&secret%value';
const ENV_PASSWORD = 'env-secret-value-43';
const PFX_PASSWORD = 'pfx-password-44';
const SETTINGS_PFX_PASSWORD = 'settings-pfx-password-45';
const SECRETS = [
  MAIN_PASSWORD,
  VAULT_PASSWORD,
  CYBERARK_PASSWORD,
  ENV_PASSWORD,
  PFX_PASSWORD,
  SETTINGS_PFX_PASSWORD,
];

const ca = makeCa();
const serverCertificate = makeServerCertificate(ca);
const encryption = makeEncryptionCertificate();
const vault = useFakeKeyVault(() => serverCertificate);
const ccp = useFakeCyberArk(() => ({ server: serverCertificate, ca, clientName: 'snow-ticket-agent' }));

const dir = tempDir();
const caFile = path.join(dir, 'ca.pem');
writeFileSync(caFile, ca.certificatePem);
writePem(dir, 'settings.pem', encryption);
const settingsPfx = writePfx(dir, 'settings.pfx', encryption, SETTINGS_PFX_PASSWORD);
writePfx(dir, 'agent.pfx', makeClientCertificate(ca, 'snow-ticket-agent'), PFX_PASSWORD);
writeSettings(dir, 'appsettings.cyberark.agent.json', { Connections: { Third: { Password: 'SnowThird' } } });
const settingsFile = path.join(dir, 'appsettings.agent.json');
const hostsPreload = writeHostsPreload(dir);

function writeMainSettings(): void {
  writeSettings(dir, 'appsettings.agent.json', {
    Connections: {
      Main: connection('svc'),
      Other: connection('svc2'),
      Third: connection('svc3'),
      Fourth: connection('svc4'),
    },
    EncryptionCertificate: { File: 'settings.pfx', Password: SETTINGS_PFX_PASSWORD },
    AzureKeyVault: { Vault: vault.azureUrl },
    CyberArk: {
      Server: ccp.url,
      ApplicationId: ccp.applicationId,
      Safe: ccp.safe,
      ClientCertificate: { File: 'agent.pfx', Password: PFX_PASSWORD },
    },
  });
  vault.secrets.set('Connections--Other--Password', { value: VAULT_PASSWORD, enabled: true });
  ccp.accounts.set('SnowThird', CYBERARK_PASSWORD);
}

function cli(args: string[], input?: string): Promise<CliResult> {
  return runCli(args, {
    env: {
      NODE_EXTRA_CA_CERTS: caFile,
      NODE_OPTIONS: `--require ${hostsPreload}`,
      IDENTITY_ENDPOINT: vault.identityEndpoint,
      IDENTITY_HEADER: vault.identityHeader,
      SNOW_CONNECTOR__Connections__Fourth__Password: ENV_PASSWORD,
    },
    ...(input === undefined ? {} : { input }),
  });
}

function scanned(result: CliResult): CliResult {
  expectNoSecret(`${result.stdout}\n${result.stderr}`, SECRETS, 'the CLI output');
  return result;
}

describe('snow-ticket protect and config check with every credential store', () => {
  test('protect --setting encrypts a value read from stdin for the certificate of the settings', async () => {
    writeMainSettings();
    const result = scanned(
      await cli(
        ['--config', settingsFile, 'protect', '--setting', 'Connections.Main.Password'],
        `${MAIN_PASSWORD}\n`,
      ),
    );
    assert.equal(result.status, 0, result.stderr);
    const value = result.stdout.trim();
    assert.match(value, /^enc:v1:[A-Za-z0-9+/]+=*$/);
    writeSettings(dir, 'appsettings.encrypted.agent.json', { Connections: { Main: { Password: value } } });
  });

  test('config check says where every secret came from, through DefaultAzureCredential and mutual TLS, never a value', async () => {
    const identityCalls = vault.counts.get('identity') ?? 0;
    const cyberArkCalls = ccp.requests;
    const result = scanned(await cli(['--config', settingsFile, 'config', 'check']));
    assert.equal(result.status, 0, result.stderr);
    const expected = [
      `Connections.Main.Password: encrypted settings file ${path.join(dir, 'appsettings.encrypted.agent.json')}`,
      `Connections.Other.Password: Azure Key Vault ${vault.azureUrl} (secret Connections--Other--Password)`,
      `Connections.Third.Password: CyberArk ${ccp.url} (safe ${ccp.safe}), object SnowThird`,
      'Connections.Fourth.Password: environment variable SNOW_CONNECTOR__Connections__Fourth__Password',
      `EncryptionCertificate.Password: file ${settingsFile}`,
    ];
    for (const line of expected)
      assert.ok(result.stdout.includes(`    ${line}\n`), `${line}\n${result.stdout}`);
    assert.ok(
      (vault.counts.get('identity') ?? 0) > identityCalls,
      'the token came from the managed identity endpoint',
    );
    assert.equal(ccp.requests, cyberArkCalls + 1);
  });

  test('a wrong certificate, a moved value and a bad PFX password are reported by setting, without values', async () => {
    const encrypted = JSON.parse(
      readFileSync(path.join(dir, 'appsettings.encrypted.agent.json'), 'utf8'),
    ) as {
      Connections: { Main: { Password: string } };
    };
    writeSettings(dir, 'appsettings.encrypted.agent.json', {
      Connections: { Other: { Password: encrypted.Connections.Main.Password } },
    });
    const moved = scanned(await cli(['--config', settingsFile, 'config', 'check']));
    assert.equal(moved.status, 2);
    assert.match(moved.stderr, /Connections\.Other\.Password: the value was encrypted for another setting/);
    assert.doesNotMatch(moved.stderr, /at .*\.ts:\d+/, 'no stack trace');

    const other = makeEncryptionCertificate('someone else');
    const otherPem = writePem(dir, 'other.pem', other);
    const foreign = await cli(
      [
        '--config',
        settingsFile,
        'protect',
        '--setting',
        'Connections.Main.Password',
        '--certificate',
        otherPem,
      ],
      MAIN_PASSWORD,
    );
    writeSettings(dir, 'appsettings.encrypted.agent.json', {
      Connections: { Main: { Password: foreign.stdout.trim() } },
    });
    const wrong = scanned(await cli(['--config', settingsFile, 'config', 'check']));
    assert.equal(wrong.status, 2);
    assert.match(
      wrong.stderr,
      /Connections\.Main\.Password: the value was encrypted for another certificate/,
    );
    assert.match(wrong.stderr, /appsettings\.encrypted\.agent\.json/);

    const passwordFile = path.join(dir, 'wrong-password.txt');
    writeFileSync(passwordFile, 'not-the-password\n');
    const badPfx = scanned(
      await cli(
        [
          'protect',
          '--setting',
          'A.B',
          '--certificate',
          settingsPfx,
          '--certificate-password-file',
          passwordFile,
        ],
        MAIN_PASSWORD,
      ),
    );
    assert.equal(badPfx.status, 2);
    assert.match(
      badPfx.stderr,
      /--certificate\.File: the PFX file cannot be opened: Password is missing or wrong/,
    );
    expectNoSecret(badPfx.stderr, ['not-the-password'], 'the error');
  });

  test('protect --file encrypts a whole settings file that the connector then reads as the encrypted layer', async () => {
    const plain = writeSettings(dir, 'plain.json', {
      Connections: { Main: { Password: MAIN_PASSWORD, ResponseSizeLimit: 500, Login: '' } },
      EncryptionCertificate: { File: 'settings.pfx' },
      TicketConnector: { Exports: { Main: { Tables: ['sys_user'] } } },
    });
    const out = path.join(dir, 'protected.json');
    const valueFile = path.join(dir, 'value.txt');
    writeFileSync(valueFile, VAULT_PASSWORD);
    const result = scanned(await cli(['--config', settingsFile, 'protect', '--file', plain, '--out', out]));
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /encrypted {2}Connections\.Main\.Password/);
    assert.match(result.stdout, /left out {3}Connections\.Main\.Login: empty/);
    assert.match(
      result.stdout,
      /left out {3}EncryptionCertificate\.File: EncryptionCertificate stays in the settings file/,
    );
    assert.match(result.stdout, /left out {3}TicketConnector\.Exports\.Main\.Tables: a list/);
    const written = readFileSync(out, 'utf8');
    expectNoSecret(written, [MAIN_PASSWORD], 'the encrypted file');
    assert.equal(
      (await cli(['--config', settingsFile, 'protect', '--file', plain, '--out', out])).status,
      2,
      'no overwrite without --force',
    );

    const single = scanned(
      await cli([
        '--config',
        settingsFile,
        'protect',
        '--setting',
        'Connections.Other.Password',
        '--value-file',
        valueFile,
      ]),
    );
    assert.equal(single.status, 0, single.stderr);

    // Read back in this process, without any store: the encrypted layer alone gives the values.
    const check = tempDir();
    writePfx(check, 'settings.pfx', encryption, SETTINGS_PFX_PASSWORD);
    const file = writeSettings(check, 'appsettings.agent.json', {
      Connections: { Main: connection('svc'), Other: connection('svc2') },
      EncryptionCertificate: { File: 'settings.pfx', Password: SETTINGS_PFX_PASSWORD },
    });
    const protectedTree = JSON.parse(written) as { Connections: { Main: Record<string, string> } };
    writeSettings(check, 'appsettings.encrypted.agent.json', {
      Connections: { Main: protectedTree.Connections.Main, Other: { Password: single.stdout.trim() } },
    });
    const loaded = await loadSettings({ file, env: {}, cwd: check });
    assert.equal(loaded.settings.Connections.Main?.Password, MAIN_PASSWORD);
    assert.equal(loaded.settings.Connections.Main?.ResponseSizeLimit, 500);
    assert.equal(loaded.settings.Connections.Other?.Password, VAULT_PASSWORD);
  });
});
