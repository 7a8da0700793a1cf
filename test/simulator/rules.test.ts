import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ACCESS_REQUEST_ITEM_SYS_ID, ADMIN_USER_SYS_ID } from '../../src/simulator/server';
import { ManualClock, useSimulator } from '../helpers/simulator';

/** Contract of the platform behaviour the connector depends on: incident and catalog states, order_now. */

type Values = Record<string, string>;

describe('simulated incident business rules', () => {
  const clock = new ManualClock('2024-05-01T10:00:00Z');
  const snow = useSimulator({ now: clock.now });
  const patch = async (sysId: string, body: Record<string, unknown>) => {
    const response = await snow.call(`/api/now/table/incident/${sysId}?sysparm_exclude_reference_link=true`, {
      method: 'PATCH',
      body,
    });
    return { status: response.status, body: (await response.json()) as { result: Values; error?: Values } };
  };

  test('a new incident is New and active', async () => {
    const created = await snow.create('incident', { short_description: 'new' });
    assert.equal(created.state, '1');
    assert.equal(created.active, 'true');
    assert.equal(created.opened_by, ADMIN_USER_SYS_ID);
  });

  for (const state of ['6', '7']) {
    test(`moving to state ${state} without close_code and close_notes is a 403 data policy exception`, async () => {
      const created = await snow.create('incident', { short_description: 'no resolution' });
      const refused = await patch(created.sys_id ?? '', { state, close_notes: 'done' });
      assert.equal(refused.status, 403);
      assert.equal(refused.body.error?.message, 'Operation Failed');
      assert.match(
        refused.body.error?.detail ?? '',
        /^Data Policy Exception: [\s\S]*mandatory: Resolution code$/,
      );
      const both = await patch(created.sys_id ?? '', { state });
      assert.match(both.body.error?.detail ?? '', /Resolution code, Resolution notes/);
      const unchanged = await snow.call(`/api/now/table/incident/${created.sys_id}`);
      const { result } = (await unchanged.json()) as { result: Values };
      assert.equal(result.state, '1');
      assert.equal(result.sys_mod_count, '0');
    });
  }

  test('resolving stamps resolved_at and resolved_by and keeps the incident active', async () => {
    const created = await snow.create('incident', { short_description: 'resolve' });
    clock.advance(3600);
    const resolved = await patch(created.sys_id ?? '', {
      state: '6',
      close_code: 'Solved (Permanently)',
      close_notes: 'Access granted',
    });
    assert.equal(resolved.status, 200);
    assert.equal(resolved.body.result.resolved_at, '2024-05-01 11:00:00');
    assert.equal(resolved.body.result.resolved_by, ADMIN_USER_SYS_ID);
    assert.equal(resolved.body.result.active, 'true');
    assert.equal(resolved.body.result.closed_at, '');
  });

  test('closing stamps closed_at and closed_by and makes the incident inactive', async () => {
    const created = await snow.create('incident', { short_description: 'close' });
    clock.advance(60);
    const closed = await patch(created.sys_id ?? '', {
      state: '7',
      close_code: 'Solved (Permanently)',
      close_notes: 'Done',
    });
    assert.equal(closed.status, 200);
    assert.equal(closed.body.result.state, '7');
    assert.equal(closed.body.result.active, 'false');
    assert.equal(closed.body.result.closed_at, '2024-05-01 11:01:00');
    assert.equal(closed.body.result.closed_by, ADMIN_USER_SYS_ID);
    assert.equal(closed.body.result.sys_mod_count, '1');
  });

  test('canceling makes the incident inactive without resolution fields', async () => {
    const created = await snow.create('incident', { short_description: 'cancel' });
    const canceled = await patch(created.sys_id ?? '', { state: '8' });
    assert.equal(canceled.status, 200);
    assert.equal(canceled.body.result.active, 'false');
  });

  test('priority follows impact and urgency', async () => {
    const created = await snow.create('incident', { impact: '1', urgency: '2' });
    assert.equal(created.priority, '2');
  });
});

describe('simulated catalog states and order_now', () => {
  const snow = useSimulator();
  const order = (body: unknown, item = ACCESS_REQUEST_ITEM_SYS_ID) =>
    snow.call(`/api/sn_sc/servicecatalog/items/${item}/order_now`, { body });
  const list = async (table: string, query: string) => {
    const response = await snow.call(
      `/api/now/table/${table}?sysparm_exclude_reference_link=true&sysparm_query=${encodeURIComponent(query)}`,
    );
    return ((await response.json()) as { result: Values[] }).result;
  };
  const patch = async (table: string, sysId: string, body: Record<string, unknown>) => {
    const response = await snow.call(`/api/now/table/${table}/${sysId}`, { method: 'PATCH', body });
    assert.equal(response.status, 200);
    return ((await response.json()) as { result: Values }).result;
  };

  test('order_now answers 200 with the request number and sys_id', async () => {
    const response = await order({ sysparm_quantity: '1', variables: { application: 'Payroll' } });
    assert.equal(response.status, 200);
    const { result } = (await response.json()) as { result: Values };
    assert.equal(result.number, 'REQ0010001');
    assert.equal(result.request_number, 'REQ0010001');
    assert.equal(result.table, 'sc_request');
    assert.equal(result.request_id, result.sys_id);

    const [request] = await list('sc_request', `sys_id=${result.sys_id}`);
    assert.equal(request?.state, '1');
    assert.equal(request?.request_state, 'requested');
    assert.equal(request?.active, 'true');
    const [item] = await list('sc_req_item', `request=${result.sys_id}`);
    assert.equal(item?.cat_item, ACCESS_REQUEST_ITEM_SYS_ID);
    assert.equal(item?.quantity, '1');
    assert.match(item?.description ?? '', /application: Payroll/);
    const tasks = await list('sc_task', `request=${result.sys_id}`);
    assert.equal(tasks.length, 1);
    assert.equal(tasks[0]?.request_item, item?.sys_id);
  });

  test('ordering twice makes two requests: there is no idempotency key', async () => {
    const numbers = [];
    for (let i = 0; i < 2; i++) {
      const response = await order({ sysparm_quantity: 1 });
      numbers.push(((await response.json()) as { result: Values }).result.number);
    }
    assert.deepEqual(numbers, ['REQ0010002', 'REQ0010003']);
  });

  test('order_now without sysparm_quantity is 400; an unknown item is 404', async () => {
    const missing = await order({ variables: {} });
    assert.equal(missing.status, 400);
    const body = (await missing.json()) as { error: Values; status: string };
    assert.equal(body.status, 'failure');
    assert.match(body.error.message ?? '', /sysparm_quantity/);
    const unknown = await order({ sysparm_quantity: 1 }, 'f'.repeat(32));
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { error: Values }).error.message, 'No Record found');
  });

  test('order_now takes POST only: another method is 405 Method not Supported', async () => {
    const response = await snow.call(
      `/api/sn_sc/servicecatalog/items/${ACCESS_REQUEST_ITEM_SYS_ID}/order_now`,
    );
    assert.equal(response.status, 405);
    const body = (await response.json()) as { error: Values; status: string };
    assert.equal(body.status, 'failure');
    assert.deepEqual(body.error, {
      message: 'Method not Supported',
      detail: 'GET method not supported for API',
    });
  });

  test('a new sc_request is Open with request_state requested; sc_req_item and sc_task start Open', async () => {
    const request = await snow.create('sc_request', {});
    assert.equal(request.state, '1');
    assert.equal(request.request_state, 'requested');
    assert.equal((await snow.create('sc_req_item', {})).state, '1');
    assert.equal((await snow.create('sc_task', {})).state, '1');
  });

  for (const [state, requestState] of [
    ['3', 'closed_complete'],
    ['4', 'closed_incomplete'],
    ['7', 'closed_skipped'],
  ] as const) {
    test(`closing a request in state ${state} sets ${requestState}, closed_at, closed_by and active=false`, async () => {
      const request = await snow.create('sc_request', {});
      const closed = await patch('sc_request', request.sys_id ?? '', { state });
      assert.equal(closed.request_state, requestState);
      assert.equal(closed.active, 'false');
      assert.notEqual(closed.closed_at, '');
      assert.deepEqual(closed.closed_by, {
        link: `${snow.sim.tableApiUrl}/sys_user/${ADMIN_USER_SYS_ID}`,
        value: ADMIN_USER_SYS_ID,
      });
    });
  }

  for (const requestState of ['closed_cancelled', 'closed_rejected']) {
    test(`request_state ${requestState} closes the request incomplete (state 4)`, async () => {
      const request = await snow.create('sc_request', {});
      const closed = await patch('sc_request', request.sys_id ?? '', { request_state: requestState });
      assert.equal(closed.state, '4');
      assert.equal(closed.request_state, requestState);
      assert.equal(closed.active, 'false');
    });
  }

  test('work in progress is request_state in_process; closing a task makes it inactive', async () => {
    const request = await snow.create('sc_request', {});
    assert.equal(
      (await patch('sc_request', request.sys_id ?? '', { state: '2' })).request_state,
      'in_process',
    );
    const task = await snow.create('sc_task', {});
    const closed = await patch('sc_task', task.sys_id ?? '', { state: '3' });
    assert.equal(closed.active, 'false');
    assert.notEqual(closed.closed_at, '');
  });
});
