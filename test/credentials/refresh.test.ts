import assert from 'node:assert/strict';
import { describe, test, before } from 'node:test';
import { loadSettings, type LoadedSettings } from '../../src/config/load';
import { serviceNowClients, serviceNowConnections } from '../../src/platform/adapters';
import type { ServiceNowClient } from '../../src/servicenow/client';
import { tempDir } from '../helpers/files';
import { expectNoSecret } from '../helpers/secretScan';
import { useSimulator } from '../helpers/simulator';
import { makeCa, makeServerCertificate } from './fixtures/certificates';
import { useFakeKeyVault } from './fixtures/fakeKeyVault';
import { localStores, writeSettings } from './fixtures/setup';

const LOGIN = 'svc.rotated';
const FIRST = 'First-pass-1!';
const SECOND = 'Second-pass-2!';
const UNKNOWN = 'Nobody-knows-3!';

const ca = makeCa();
const vault = useFakeKeyVault(() => makeServerCertificate(ca));
const snow = useSimulator();
const tokens = { count: 0 };
let clock = 1_000_000;
const dir = tempDir();
/** Re-reads that failed, as the worker would log them. */
const failures: unknown[] = [];

/** Sets the ServiceNow user's password, as an administrator rotating it would. */
async function rotateInServiceNow(sysId: string, password: string): Promise<void> {
  const response = await snow.call(`/api/now/table/sys_user/${sysId}?sysparm_input_display_value=true`, {
    method: 'PATCH',
    body: { user_password: password },
  });
  assert.equal(response.status, 200);
}

async function canRead(client: ServiceNowClient): Promise<string | undefined> {
  const [result] = await client.checkAccess(['incident']);
  return result?.error?.message;
}

const storeReads = () => vault.counts.get('list') ?? 0;

describe('secrets are read at start and again only after ServiceNow refuses them', () => {
  let userSysId = '';
  let loaded: LoadedSettings;
  let client: ServiceNowClient;

  before(async () => {
    const created = await snow.create('sys_user', { user_name: LOGIN });
    userSysId = created.sys_id ?? '';
    await rotateInServiceNow(userSysId, FIRST);
    vault.secrets.set('Connections--Main--Password', { value: FIRST, enabled: true });
    vault.secrets.set('Connections--OAuth--Password', { value: FIRST, enabled: true });
    const file = writeSettings(dir, 'appsettings.agent.json', {
      Connections: {
        Main: { Server: `${snow.sim.url}/api/now/table`, Login: LOGIN },
        // OAuth's password grant with the same user: the token endpoint is what refuses a stale password.
        OAuth: {
          Server: `${snow.sim.url}/api/now/table`,
          Login: LOGIN,
          ClientId: snow.sim.credentials.clientId,
          ClientSecret: snow.sim.credentials.clientSecret,
          OAuth2Url: snow.sim.oauthUrl,
        },
      },
      AzureKeyVault: { Vault: vault.url },
    });
    loaded = await loadSettings({
      file,
      env: {},
      cwd: dir,
      stores: localStores(vault, ca, tokens),
      refresh: { minIntervalMs: 30_000, now: () => clock, onError: (error) => failures.push(error) },
    });
    client = serviceNowClients(loaded.settings, loaded.live)('Main');
  });

  test('ServiceNow clients follow the stores only when given them', () => {
    assert.equal(serviceNowConnections(loaded.settings, loaded.live).get('Main')?.credentials.kind, 'stored');
    assert.equal(serviceNowConnections(loaded.settings).get('Main')?.credentials.kind, 'basic');
  });

  test('ordinary calls do not ask the store again', async () => {
    const reads = storeReads();
    const gets = vault.counts.get('get');
    for (let call = 0; call < 5; call++) assert.equal(await canRead(client), undefined);
    assert.equal(storeReads(), reads);
    assert.equal(vault.counts.get('get'), gets);
  });

  test('a password rotated in the vault and in ServiceNow is picked up by one re-read, shared by concurrent calls', async () => {
    vault.secrets.set('Connections--Main--Password', { value: SECOND, enabled: true });
    await rotateInServiceNow(userSysId, SECOND);
    const reads = storeReads();
    const results = await Promise.all([canRead(client), canRead(client), canRead(client)]);
    assert.deepEqual(results, [undefined, undefined, undefined]);
    assert.equal(storeReads(), reads + 1, 'one re-read for the three refused calls');
    assert.equal(loaded.live.current().Connections.Main?.Password, SECOND);
    assert.equal(await canRead(client), undefined);
    assert.equal(storeReads(), reads + 1);
  });

  test('a password nobody has fails with at most one re-read per interval, and the error holds no secret', async () => {
    clock += 60_000;
    await rotateInServiceNow(userSysId, UNKNOWN);
    const reads = storeReads();
    const first = await canRead(client);
    assert.match(first ?? '', /401/);
    assert.equal(storeReads(), reads + 1);
    const second = await canRead(client);
    assert.match(second ?? '', /401/);
    assert.equal(storeReads(), reads + 1, 'not again within 30 s');
    clock += 31_000;
    await canRead(client);
    assert.equal(storeReads(), reads + 2, 'again once the interval has passed');
    expectNoSecret(`${first}\n${second}`, [FIRST, SECOND, UNKNOWN, `${LOGIN}:${SECOND}`], 'the error');
  });

  test('with OAuth, a token endpoint refusing the stored password triggers the same single re-read', async () => {
    clock += 60_000;
    const fourth = 'Fourth-pass-4!';
    await rotateInServiceNow(userSysId, fourth);
    vault.secrets.set('Connections--OAuth--Password', { value: fourth, enabled: true });
    vault.secrets.set('Connections--Main--Password', { value: fourth, enabled: true });
    const reads = storeReads();
    // A client made now starts from the settings read before the rotation, as a worker's pool would.
    const oauth = serviceNowClients(loaded.settings, loaded.live)('OAuth');
    assert.equal(await canRead(oauth), undefined);
    assert.equal(storeReads(), reads + 1);
    assert.equal(await canRead(oauth), undefined);
    assert.equal(storeReads(), reads + 1, 'the token is cached: no further read');
  });

  test('a re-read that fails keeps the settings, and what it reports names the store, not a value', async () => {
    assert.equal(failures.length, 0, 'no re-read failed so far');
    clock += 60_000;
    await rotateInServiceNow(userSysId, UNKNOWN);
    vault.failWith = 403;
    try {
      const before = loaded.live.current();
      assert.match((await canRead(client)) ?? '', /401/);
      assert.equal(loaded.live.current(), before);
      assert.equal(failures.length, 1);
      const message = failures[0] instanceof Error ? failures[0].message : String(failures[0]);
      assert.match(
        message,
        /Cannot read settings from Azure Key Vault .*\n.*the vault refused access \(HTTP 403\)/,
      );
      expectNoSecret(message, [FIRST, SECOND, UNKNOWN, 'Fourth-pass-4!'], 'the re-read failure');
    } finally {
      vault.failWith = undefined;
    }
  });
});
