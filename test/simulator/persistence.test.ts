import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, test } from 'node:test';
import { startSimulator, type SimulatorHandle, type SimulatorOptions } from '../../src/simulator/server';
import { tempDir } from '../helpers/files';
import { simulatorCalls, type SimulatorCalls } from '../helpers/simulator';

/** `stateFile`: what `npm start` keeps across restarts, and how an unusable file is refused. */

/** Waits for a background effect; the generous bound only keeps a broken save from hanging the run. */
async function eventually(condition: () => boolean): Promise<void> {
  for (let waited = 0; !condition(); waited += 50) {
    assert.ok(waited < 60_000, 'the state was not saved in the background');
    await sleep(50);
  }
}

type Ticket = Record<string, string>;

describe('simulator state file', () => {
  const running = new Set<SimulatorHandle>();
  afterEach(async () => {
    await Promise.all([...running].map((sim) => sim.close()));
    running.clear();
  });

  async function start(stateFile: string, options: SimulatorOptions = {}) {
    const sim = await startSimulator({
      port: 0,
      stateFile,
      admin: { password: 'admin-Pa55word' },
      ...options,
    });
    running.add(sim);
    return { sim, ...simulatorCalls(() => sim) };
  }

  async function stop(sim: SimulatorHandle): Promise<void> {
    running.delete(sim);
    await sim.close();
  }

  /** A record with plain sys_ids for references: links name the port, which changes with every start. */
  async function read(call: SimulatorCalls['call'], url: string) {
    const response = await call(`${url}?sysparm_exclude_reference_link=true`);
    assert.equal(response.status, 200, await response.clone().text());
    return ((await response.json()) as { result: Ticket }).result;
  }

  test('tickets, journals, users and numbering survive a restart; tokens do not', async () => {
    const file = path.join(tempDir(), 'state.json');
    const first = await start(file);
    const ticket = await first.create('incident', {
      short_description: 'Grant Payroll',
      correlation_id: 'order-1',
      work_notes: 'Opened by the connector',
    });
    const worked = await first.admin(`/tickets/${ticket.number}/work`, { body: { notes: 'On it' } });
    assert.equal(worked.status, 200);
    const user = await first.call('/api/now/table/sys_user?sysparm_input_display_value=true', {
      body: { user_name: 'ada.l', name: 'Ada L', user_password: 'Ada-Pa55word!' },
    });
    assert.equal(user.status, 201);
    const token = await first.call('/oauth_token.do', {
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: first.sim.credentials.clientId,
        client_secret: first.sim.credentials.clientSecret,
        username: 'admin',
        password: 'admin-Pa55word',
      }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    const { access_token: accessToken } = (await token.json()) as { access_token: string };
    const before = await read(first.call, `/api/now/table/incident/${ticket.sys_id}`);
    await stop(first.sim);

    const saved = readFileSync(file, 'utf8');
    assert.ok(!saved.includes(accessToken), 'no OAuth token in the file');
    assert.ok(!saved.includes('Ada-Pa55word!') && !saved.includes('admin-Pa55word'), 'no plaintext password');
    assert.equal(statSync(file).mode & 0o077, 0, 'readable by the owner only');

    const second = await start(file);
    assert.deepEqual(await read(second.call, `/api/now/table/incident/${ticket.sys_id}`), before);
    assert.equal(before.state, '2');
    assert.equal(before.sys_mod_count, '1');
    const detail = await second.admin(`/tickets/${ticket.number}`);
    const { journal } = ((await detail.json()) as { result: { journal: Ticket[] } }).result;
    assert.deepEqual(
      journal.map((entry) => entry.value),
      ['Opened by the connector', 'On it'],
    );
    const asAda = await second.call('/api/now/table/incident?sysparm_limit=1', {
      as: { login: 'ada.l', password: 'Ada-Pa55word!' },
    });
    assert.equal(asAda.status, 200, 'the saved password digest still logs in');
    const withOldToken = await second.call('/api/now/table/incident', { as: { bearer: accessToken } });
    assert.equal(withOldToken.status, 401, 'tokens are not restored');

    const next = await second.create('incident', { short_description: 'Next one' });
    assert.equal(next.number, 'INC0010002');
    const patched = await second.call(`/api/now/table/incident/${ticket.sys_id}`, {
      method: 'PATCH',
      body: { impact: '1' },
    });
    assert.equal(((await patched.json()) as { result: Ticket }).result.sys_mod_count, '2');
  });

  test('changes are saved in the background, and a password nobody can use is not saved as written', async () => {
    const file = path.join(tempDir(), 'state.json');
    const { sim, create } = await start(file);
    const user = await create('sys_user', { user_name: 'grace.h', user_password: 'written-in-clear' });
    await create('incident', { short_description: 'Saved without a close' });
    await eventually(() => readFileSync(file, 'utf8').includes('Saved without a close'));
    assert.ok(!readFileSync(file, 'utf8').includes('written-in-clear'));
    await stop(sim);
    const again = await start(file);
    const login = await again.call('/api/now/table/incident', {
      as: { login: 'grace.h', password: 'written-in-clear' },
    });
    assert.equal(login.status, 401, 'still unusable after the restart');
    assert.equal((await read(again.call, `/api/now/table/sys_user/${user.sys_id}`)).user_name, 'grace.h');
  });

  test('a restart with another admin password logs in with the new one; seeding continues the old batches', async () => {
    const file = path.join(tempDir(), 'state.json');
    const first = await start(file);
    await first.admin('/seed', { body: { users: 2 } });
    await stop(first.sim);
    const second = await start(file, { admin: { password: 'another-Pa55word' } });
    const users = await second.call('/api/now/table/sys_user?sysparm_limit=1', {
      as: { login: 'admin', password: 'another-Pa55word' },
    });
    assert.equal(users.status, 200);
    const old = await second.call('/api/now/table/sys_user?sysparm_limit=1', {
      as: { login: 'admin', password: 'admin-Pa55word' },
    });
    assert.equal(old.status, 401);
    await second.admin('/seed', { body: { users: 2 } });
    const response = await second.call(
      '/api/now/table/sys_user?sysparm_query=user_nameSTARTSWITHsim.user^ORDERBYuser_name&sysparm_fields=user_name',
    );
    const names = ((await response.json()) as { result: Ticket[] }).result.map((row) => row.user_name);
    assert.deepEqual(names, ['sim.user1000001', 'sim.user1000002', 'sim.user2000001', 'sim.user2000002']);
  });

  test('an unusable state file stops the start, names the file and is left as it was', async () => {
    const dir = tempDir();
    const cases: Record<string, [string, RegExp]> = {
      'truncated.json': ['{"format":"servicenow-simulator-state","version":1,"tab', /is not valid JSON/],
      'other.json': ['{"hello":"world"}', /is not a simulator state: /],
      'future.json': [
        JSON.stringify({
          format: 'servicenow-simulator-state',
          version: 2,
          directoryBatches: 0,
          journals: {},
          tables: {},
        }),
        /is not a simulator state: version: /,
      ],
      'twice.json': [
        JSON.stringify({
          format: 'servicenow-simulator-state',
          version: 1,
          directoryBatches: 0,
          journals: {},
          tables: {
            sys_user_role: {
              fields: ['sys_id', 'name'],
              nextNumber: 10001,
              rows: [
                ['2831a114c611228501d4ea6c309d626d', 'admin'],
                ['2831a114c611228501d4ea6c309d626d', 'itil'],
              ],
            },
          },
        }),
        /sys_user_role: sys_id 2831a114c611228501d4ea6c309d626d appears twice/,
      ],
    };
    for (const [name, [content, problem]] of Object.entries(cases)) {
      const file = path.join(dir, name);
      writeFileSync(file, content);
      await assert.rejects(start(file), (error: Error) => {
        assert.ok(error.message.startsWith(`ServiceNow simulator state file ${file}: `), error.message);
        assert.match(error.message, problem);
        return true;
      });
      assert.equal(readFileSync(file, 'utf8'), content, `${name} is not overwritten`);
    }
    const unwritable = path.join(dir, 'no-such-folder', 'state.json');
    await assert.rejects(start(unwritable), /state\.json: cannot be written/);
    assert.equal(existsSync(unwritable), false);
  });
});
