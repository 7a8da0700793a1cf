import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parseSettings } from '../../src/config/load';
import { startLocalSimulator } from '../../src/stack/localSimulator';
import { tempDir } from '../helpers/files';
import { freePort } from '../helpers/ports';
import { basicAuthorization } from '../helpers/simulator';

/**
 * The simulator `npm start` runs when the settings define no ServiceNow connection: which admin password is in
 * effect, where the stack's printout says to find it, and that an operator's own password is never written.
 */

const GIVEN_PASSWORD = 'Operator-password-4';

async function adminStatus(url: string, password: string): Promise<number> {
  const response = await fetch(`${url}/sim/admin/stats`, {
    headers: { authorization: basicAuthorization('admin', password) },
  });
  await response.arrayBuffer();
  return response.status;
}

describe('the simulator of npm start', () => {
  const settings = parseSettings({}, 'test settings');

  test('a SNOW_SIM_PASSWORD is in effect, named as where the password is, and written to no file', async () => {
    const dataDir = tempDir();
    const env = { SNOW_SIM_PORT: String(await freePort()), SNOW_SIM_PASSWORD: GIVEN_PASSWORD };
    const local = await startLocalSimulator(settings, dataDir, env);
    try {
      assert.equal(local.passwordSource, '$SNOW_SIM_PASSWORD');
      assert.equal(await adminStatus(local.handle.url, GIVEN_PASSWORD), 200);
    } finally {
      await local.handle.close();
    }
    for (const file of readdirSync(dataDir)) {
      const content = readFileSync(path.join(dataDir, file), 'utf8');
      assert.ok(!content.includes(GIVEN_PASSWORD), `${file} holds the operator's password`);
    }
  });

  test('without one, the password in effect is the one in the credentials file the printout names', async () => {
    const dataDir = tempDir();
    const local = await startLocalSimulator(settings, dataDir, { SNOW_SIM_PORT: String(await freePort()) });
    try {
      assert.equal(local.passwordSource, local.credentialsFile);
      const { password } = JSON.parse(readFileSync(local.credentialsFile, 'utf8')) as { password: string };
      assert.equal(await adminStatus(local.handle.url, password), 200);
    } finally {
      await local.handle.close();
    }
  });
});
