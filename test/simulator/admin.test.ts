import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { basicAuthorization, useSimulator } from '../helpers/simulator';

/** Contract of the operator's admin API (`/sim/admin`). */

type Ticket = Record<string, string>;

describe('simulator admin API', () => {
  const snow = useSimulator();
  const tickets = async (query = '') => {
    const response = await snow.admin(`/tickets${query}`);
    assert.equal(response.status, 200);
    return ((await response.json()) as { result: Ticket[] }).result;
  };
  const act = async (number: string, action: string, body: Record<string, unknown> = {}) => {
    const response = await snow.admin(`/tickets/${number}/${action}`, { method: 'POST', body });
    return { status: response.status, body: (await response.json()) as { result: Ticket; error?: string } };
  };
  const record = async (number: string) => {
    const response = await snow.admin(`/tickets/${number}`);
    return ((await response.json()) as { result: { record: Ticket; journal: Ticket[] } }).result;
  };

  test('needs the admin Basic credentials', async () => {
    for (const authorization of [undefined, basicAuthorization('admin', 'wrong'), 'Bearer x']) {
      const response = await fetch(`${snow.sim.url}/sim/admin/stats`, {
        headers: authorization === undefined ? {} : { authorization },
      });
      assert.equal(response.status, 401);
      assert.ok(response.headers.get('www-authenticate'));
    }
  });

  test('lists open tickets of incident and sc_request, filtered by table and state', async () => {
    await snow.create('incident', { short_description: 'Grant Payroll', correlation_id: 'corr-1' });
    await snow.create('sc_request', { short_description: 'Order laptop' });
    const open = await tickets();
    assert.deepEqual(
      open.map((t) => [t.number, t.table, t.state_label, t.short_description, t.correlation_id]),
      [
        ['INC0010001', 'incident', 'New', 'Grant Payroll', 'corr-1'],
        ['REQ0010001', 'sc_request', 'Open', 'Order laptop', ''],
      ],
    );
    assert.deepEqual(
      (await tickets('?table=sc_request')).map((t) => t.number),
      ['REQ0010001'],
    );
    assert.deepEqual(await tickets('?state=closed'), []);
    const invalid = await snow.admin('/tickets?table=sys_user');
    assert.equal(invalid.status, 400);
  });

  test('incident actions act like a fulfiller through the business rules', async () => {
    const worked = await act('INC0010001', 'work', { notes: 'Looking into it' });
    assert.equal(worked.status, 200);
    assert.equal(worked.body.result.state_label, 'In Progress');
    assert.equal(worked.body.result.sys_mod_count, '1');

    const resolved = await act('INC0010001', 'resolve', { notes: 'Granted' });
    assert.equal(resolved.body.result.state_label, 'Resolved');

    const closed = await act('INC0010001', 'close', { code: 'Solved (Work Around)' });
    assert.equal(closed.body.result.state_label, 'Closed');
    const { record: incident, journal } = await record('INC0010001');
    assert.equal(incident.close_code, 'Solved (Work Around)');
    assert.equal(incident.active, 'false');
    assert.notEqual(incident.closed_at, '');
    assert.equal(incident.sys_mod_count, '3');
    assert.deepEqual(
      journal.map((entry) => [entry.field, entry.value]),
      [['work_notes', 'Looking into it']],
    );
    assert.deepEqual(
      (await tickets('?state=closed')).map((t) => t.number),
      ['INC0010001'],
    );
  });

  test('actions stamp the fulfiller given with by', async () => {
    const fulfiller = await snow.create('sys_user', { user_name: 'beth.anglin', name: 'Beth Anglin' });
    const incident = await snow.create('incident', { short_description: 'by Beth' });
    await act(incident.number ?? '', 'close', { by: 'beth.anglin' });
    const { record: closed } = await record(incident.number ?? '');
    assert.equal(closed.closed_by, fulfiller.sys_id);
    assert.equal(closed.sys_updated_by, 'beth.anglin');
    const unknown = await act(incident.number ?? '', 'work', { by: 'nobody' });
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.error ?? '', /nobody/);
  });

  test('catalog outcomes: complete, incomplete, skipped, rejected, and cancel', async () => {
    const expected = {
      complete: ['Closed Complete', 'closed_complete'],
      incomplete: ['Closed Incomplete', 'closed_incomplete'],
      skipped: ['Closed Skipped', 'closed_skipped'],
      rejected: ['Closed Incomplete', 'closed_rejected'],
    };
    for (const [outcome, [label, requestState]] of Object.entries(expected)) {
      const request = await snow.create('sc_request', {});
      const closed = await act(request.number ?? '', 'close', { outcome });
      assert.equal(closed.body.result.state_label, label, outcome);
      assert.equal((await record(request.number ?? '')).record.request_state, requestState, outcome);
    }
    const request = await snow.create('sc_request', {});
    await act(request.number ?? '', 'cancel', { notes: 'No longer needed' });
    const { record: canceled } = await record(request.number ?? '');
    assert.equal(canceled.request_state, 'closed_cancelled');
    assert.equal(canceled.state, '4');
    assert.equal(canceled.close_notes, 'No longer needed');
  });

  test('refuses what does not apply, and unknown tickets', async () => {
    const request = await snow.create('sc_request', {});
    assert.equal((await act(request.number ?? '', 'resolve')).status, 400);
    assert.equal((await act('INC0010001', 'close', { outcome: 'skipped' })).status, 400);
    assert.equal((await act('INC0010001', 'explode')).status, 400);
    const missing = await act('INC0099999', 'close');
    assert.equal(missing.status, 404);
    assert.match(missing.body.error ?? '', /INC0099999/);
    assert.equal((await snow.admin('/tickets/INC0099999')).status, 404);
  });

  test('seed creates users, groups, memberships and role grants visible through the Table API', async () => {
    const response = await snow.admin('/seed', {
      method: 'POST',
      body: { users: 50, groups: 5, membershipsPerUser: 3, roles: 2 },
    });
    assert.equal(response.status, 200);
    const { result } = (await response.json()) as { result: Record<string, number> };
    assert.deepEqual(
      { ...result, took_ms: undefined },
      { users: 50, groups: 5, memberships: 150, roles: 2, roleGrants: 50, took_ms: undefined },
    );
    const count = async (table: string, query = '') =>
      (await snow.call(`/api/now/table/${table}?sysparm_limit=1&sysparm_query=${query}`)).headers.get(
        'x-total-count',
      );
    assert.equal(await count('sys_user_grmember'), '150');
    assert.equal(await count('sys_user_group', 'nameSTARTSWITHSim Group'), '5');
    assert.equal(await count('sys_user', 'user_nameSTARTSWITHsim.user'), '50');
    const invalid = await snow.admin('/seed', { method: 'POST', body: { users: -1 } });
    assert.equal(invalid.status, 400);
  });

  test('stats count requests by method and table and by status code', async () => {
    await snow.admin('/reset', { method: 'POST' });
    await snow.call('/api/now/table/incident');
    await snow.call('/api/now/table/incident');
    await snow.create('incident', {});
    await snow.call('/api/now/table/u_nothing');
    const response = await snow.admin('/stats');
    const { result } = (await response.json()) as {
      result: { requests: { total: number; byMethodAndTarget: object; byStatus: object }; tables: object };
    };
    assert.equal(result.requests.total, 4);
    assert.deepEqual(result.requests.byMethodAndTarget, {
      'GET incident': 2,
      'POST incident': 1,
      'GET invalid table': 1,
    });
    assert.deepEqual(result.requests.byStatus, { '200': 2, '201': 1, '400': 1 });
    assert.equal((result.tables as Record<string, number>).incident, 1);
    const recent = await snow.admin('/requests?limit=2');
    const log = ((await recent.json()) as { result: { method: string; status: number; user: string }[] })
      .result;
    assert.deepEqual(
      log.map((entry) => [entry.method, entry.status, entry.user]),
      [
        ['POST', 201, 'admin'],
        ['GET', 400, 'admin'],
      ],
    );
  });

  test('reset drops data and tokens and restarts numbering; the admin still logs in', async () => {
    const { login, password, clientId, clientSecret } = snow.sim.credentials;
    const grant = await fetch(snow.sim.oauthUrl, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: clientId,
        client_secret: clientSecret,
        username: login,
        password,
      }),
    });
    const { access_token } = (await grant.json()) as { access_token: string };
    await snow.create('incident', {});
    assert.equal((await snow.admin('/reset', { method: 'POST' })).status, 200);
    const list = await snow.call('/api/now/table/incident');
    assert.deepEqual(await list.json(), { result: [] });
    assert.equal((await snow.call('/api/now/table/incident', { as: { bearer: access_token } })).status, 401);
    assert.equal((await snow.create('incident', {})).number, 'INC0010001');
  });
});

describe('simulator bulk seeding', () => {
  const snow = useSimulator();

  test('seeds 100,000 users and 1,000,000 memberships in reasonable time', { timeout: 180_000 }, async () => {
    const response = await snow.admin('/seed', {
      method: 'POST',
      body: { users: 100_000, groups: 1000, membershipsPerUser: 10 },
    });
    assert.equal(response.status, 200);
    const { result } = (await response.json()) as { result: Record<string, number> };
    assert.equal(result.memberships, 1_000_000);
    const memberships = await snow.call('/api/now/table/sys_user_grmember?sysparm_limit=1');
    assert.equal(memberships.headers.get('x-total-count'), '1000000');
    const page = await snow.call(
      `/api/now/table/sys_user_grmember?sysparm_limit=1000&sysparm_query=${encodeURIComponent('ORDERBYsys_id')}`,
    );
    assert.equal(((await page.json()) as { result: unknown[] }).result.length, 1000);
  });
});
