/** The simulator's passwords: salted digests, the password policy, who may set a password, nothing kept in clear. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { isPasswordDigest, passwordDigest, passwordMatches } from '../../src/simulator/auth';
import { runCli } from '../helpers/cli';
import { basicAuthorization, useSimulator } from '../helpers/simulator';
import { expectNoSecret } from '../helpers/secretScan';

const PASSWORD = 'Sim-"Pa55"&word/+é';
const PLAIN = { login: 'sim.plain', password: 'Plain-pass-1' };

describe('simulated passwords', () => {
  const snow = useSimulator();

  async function createUser(userName: string, password?: string): Promise<string> {
    const response = await snow.call('/api/now/table/sys_user?sysparm_input_display_value=true', {
      body: {
        user_name: userName,
        first_name: 'Sam',
        ...(password === undefined ? {} : { user_password: password }),
      },
    });
    assert.equal(response.status, 201, await response.clone().text());
    return ((await response.json()) as { result: { sys_id: string } }).result.sys_id;
  }

  const setPassword = (sysId: string, password: string, as?: typeof PLAIN) =>
    snow.call(`/api/now/table/sys_user/${sysId}?sysparm_input_display_value=true`, {
      method: 'PATCH',
      body: { user_password: password, password_needs_reset: 'true', first_name: 'Changed' },
      ...(as === undefined ? {} : { as }),
    });

  const userRow = async (sysId: string) =>
    (
      (await (await snow.call(`/api/now/table/sys_user/${sysId}`)).json()) as {
        result: Record<string, string>;
      }
    ).result;

  test('digests are salted: the same password gives different digests, and each still matches', () => {
    const [a, b] = [passwordDigest(PASSWORD), passwordDigest(PASSWORD)];
    assert.notEqual(a, b);
    assert.ok(isPasswordDigest(a));
    assert.ok(passwordMatches(PASSWORD, a) && passwordMatches(PASSWORD, b));
    assert.equal(passwordMatches('Other-pass-1', a), false);
    // State files of earlier releases hold unsalted digests: they still log in.
    const legacy = `sha256:${createHash('sha256').update(PASSWORD).digest('hex')}`;
    assert.ok(isPasswordDigest(legacy));
    assert.ok(passwordMatches(PASSWORD, legacy));
    assert.equal(passwordMatches(PASSWORD, PASSWORD), false, 'a value that is not a digest never matches');
  });

  test('a password that breaks the policy is a 400 naming the policy and its rules, never the password', async () => {
    const sysId = await createUser('sim.weak');
    for (const [weak, rule] of [
      ['Ab1', /at least 8 characters/],
      ['abcdefghij', /at least one digit/],
      ['1234567890', /at least one letter/],
    ] as const) {
      const response = await setPassword(sysId, weak);
      assert.equal(response.status, 400, weak);
      const text = await response.text();
      assert.match(text, /Password does not meet the password policy/);
      assert.match(text, /Simulator default password policy/);
      assert.match(text, rule);
      assert.ok(!text.includes(weak), 'the answer does not quote the password');
    }
    const row = await userRow(sysId);
    assert.equal(row.first_name, 'Sam', 'a refused write changes nothing');
    assert.equal(row.password_needs_reset, 'false');
  });

  test('a user without user_admin may edit their own profile, where the password fields are silently skipped', async () => {
    const own = await createUser(PLAIN.login, PLAIN.password);
    const response = await setPassword(own, PASSWORD, PLAIN);
    assert.equal(response.status, 200);
    const row = await userRow(own);
    assert.equal(row.first_name, 'Changed', 'the profile field is written');
    assert.equal(row.password_needs_reset, 'false', 'the protected field is not');
    const login = await fetch(`${snow.sim.tableApiUrl}/sys_user?sysparm_limit=1`, {
      headers: { authorization: basicAuthorization(PLAIN.login, PLAIN.password) },
    });
    assert.equal(login.status, 200, 'the old password still works');
    const other = await createUser('sim.other');
    const refused = await setPassword(other, PASSWORD, PLAIN);
    assert.equal(refused.status, 403);
    assert.match(await refused.text(), /ACL Exception Update Failed/);
  });

  test('a password set by an administrator is never kept, read back, journaled or logged in clear', async () => {
    const first = await createUser('sim.first');
    const second = await createUser('sim.second');
    for (const sysId of [first, second]) assert.equal((await setPassword(sysId, PASSWORD)).status, 200);
    assert.equal((await userRow(first)).user_password, '');
    const snapshot = snow.sim.instance.stateSnapshot().join('');
    expectNoSecret(snapshot, [PASSWORD], 'the state file');
    const digests = [...snapshot.matchAll(/ssha256:[0-9a-f]{32}:[0-9a-f]{64}/g)].map(([digest]) => digest);
    assert.ok(digests.length >= 3, 'the admin and both users hold digests');
    assert.equal(new Set(digests).size, digests.length, 'equal passwords do not look alike at rest');
    const journals = JSON.stringify([...snow.sim.instance.store.allJournals()]);
    expectNoSecret(journals, [PASSWORD], 'the journal');
    const requests = await (await snow.admin('/requests?limit=1000')).text();
    expectNoSecret(requests, [PASSWORD], "the simulator's request log");
  });

  test('`sim user` shows the login state and whether a password is set, never the digest', async () => {
    await createUser('sim.shown');
    const before = (await (await snow.admin('/users/sim.shown')).json()) as {
      result: Record<string, unknown>;
    };
    assert.equal(before.result.password_set, false);
    const users = await snow.call(
      '/api/now/table/sys_user?sysparm_query=user_name=sim.shown&sysparm_fields=sys_id',
    );
    const sysId = ((await users.json()) as { result: { sys_id: string }[] }).result[0]?.sys_id ?? '';
    assert.equal((await setPassword(sysId, PASSWORD)).status, 200);
    const result = await runCli(['sim', 'user', 'sim.shown'], {
      env: { SNOW_SIM_URL: snow.sim.url, SNOW_SIM_PASSWORD: snow.sim.credentials.password },
    });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /password_needs_reset\s+true/);
    assert.match(result.stdout, /password_set\s+true/);
    assert.ok(!result.stdout.includes('ssha256'), 'no digest');
    expectNoSecret(result.stdout + result.stderr, [PASSWORD], 'the output');
    assert.equal((await snow.admin('/users/sim.nobody')).status, 404);
  });
});
