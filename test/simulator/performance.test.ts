import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { TableName } from '../../src/servicenow/tables';
import { compileQuery, selectPage, type CompiledQuery, type PageWindow } from '../../src/simulator/queryEval';
import { ADMIN_USER_SYS_ID } from '../../src/simulator/server';
import type { Row, Store } from '../../src/simulator/store';
import type { Writer } from '../../src/simulator/tableWriter';
import { ManualClock, useSimulator } from '../helpers/simulator';

/**
 * The simulator's fast query paths (index lookups, the sys_id keyset seek, bounded top-k ordering, stopping early
 * without a count) must answer exactly what a plain scan answers: every query here runs both ways over a seeded
 * directory with updated, deleted and case-varied records. Nothing is timed.
 */

type Access = 'index' | 'seek' | 'scan';

const WINDOWS: readonly PageWindow[] = [
  { offset: 0, limit: 10_000, countAll: true },
  { offset: 0, limit: 5, countAll: true },
  { offset: 0, limit: 5, countAll: false },
  { offset: 3, limit: 4, countAll: true },
  { offset: 7, limit: 3, countAll: false },
];

/** The reference: every row in creation order, filtered, stably sorted, sliced. */
function bruteForce(store: Store, table: TableName, query: CompiledQuery, window: PageWindow) {
  const matching = [...store.table(table).inCreationOrder()].filter(query.matches);
  const order =
    query.compare ??
    (query.inSysIdOrder ? (a: Row, b: Row) => ((a[0] ?? '') < (b[0] ?? '') ? -1 : 1) : undefined);
  if (order !== undefined) matching.sort(order);
  return { rows: matching.slice(window.offset, window.offset + window.limit), total: matching.length };
}

function accessOf(query: CompiledQuery): Access {
  if (query.candidates !== undefined) return 'index';
  return query.inSysIdOrder && query.sysIdFrom !== undefined ? 'seek' : 'scan';
}

describe('simulator query fast paths', () => {
  const clock = new ManualClock();
  const snow = useSimulator({ now: clock.now });
  const asAdmin: Writer = {
    user: { sysId: ADMIN_USER_SYS_ID, userName: 'admin' },
    inputDisplayValue: false,
    checkAcl: false,
  };
  const store = () => snow.sim.instance.store;
  const sysIds = (table: TableName) => [...store().table(table).inSysIdOrder()].map((row) => row[0] ?? '');
  const read = (table: TableName, row: Row | undefined, field: string) =>
    row === undefined ? '' : store().table(table).read(row, field);

  function check(table: TableName, query: string, access: Access): void {
    const compiled = compileQuery(store(), table, query);
    assert.equal(accessOf(compiled), access, `access path of ${table}?${query}`);
    for (const window of WINDOWS) {
      const fast = selectPage(store(), table, compiled, window);
      const expected = bruteForce(store(), table, compiled, window);
      const label = `${table}?${query} ${JSON.stringify(window)}`;
      assert.deepEqual(
        fast.rows.map((row) => row[0]),
        expected.rows.map((row) => row[0]),
        label,
      );
      if (window.countAll || fast.total !== undefined) assert.equal(fast.total, expected.total, label);
    }
  }

  before(() => {
    const { instance } = snow.sim;
    const { writer } = instance;
    instance.seedDirectory({ users: 240, groups: 9, membershipsPerUser: 3, roles: 4 });
    clock.advance(60);
    const users = [...store().table('sys_user').inCreationOrder()];
    const members = [...store().table('sys_user_grmember').inCreationOrder()];
    // Renamed users move in the user_name index; a few memberships move group and get a later sys_updated_on.
    for (const row of users.slice(10, 20)) {
      writer.update(
        'sys_user',
        read('sys_user', row, 'sys_id'),
        { user_name: `Renamed.${read('sys_user', row, 'employee_number')}` },
        asAdmin,
      );
    }
    for (const [i, row] of members.slice(30, 60).entries()) {
      clock.advance(i % 3);
      const group = read('sys_user_grmember', members[i * 7], 'group');
      writer.update('sys_user_grmember', read('sys_user_grmember', row, 'sys_id'), { group }, asAdmin);
    }
    for (const row of users.slice(40, 45))
      writer.delete('sys_user', read('sys_user', row, 'sys_id'), asAdmin);
    for (const row of members.slice(100, 110)) {
      writer.delete('sys_user_grmember', read('sys_user_grmember', row, 'sys_id'), asAdmin);
    }
    for (let i = 0; i < 60; i++) {
      clock.advance(1);
      const correlation = i % 4 === 0 ? '' : `Order-${i % 25}`;
      writer.insert(
        'incident',
        { short_description: `ticket ${i % 7}`, correlation_id: correlation, impact: String((i % 3) + 1) },
        asAdmin,
      );
    }
    const incidents = [...store().table('incident').inCreationOrder()];
    for (const row of incidents.slice(0, 10)) {
      writer.update('incident', read('incident', row, 'sys_id'), { correlation_id: 'ORDER-moved' }, asAdmin);
    }
    writer.delete('incident', read('incident', incidents[20], 'sys_id'), asAdmin);
  });

  test('= and IN on indexed fields use the index, ignoring case where the field does', () => {
    const users = [...store().table('sys_user').inCreationOrder()];
    const name = (i: number) => read('sys_user', users[i], 'user_name');
    check('sys_user', `user_name=${name(3).toUpperCase()}`, 'index');
    check('sys_user', `user_name=${name(12)}`, 'index');
    check('sys_user', `user_nameIN${name(5)},${name(4).toUpperCase()},${name(5)},nobody`, 'index');
    check('sys_user', `user_name=${name(6)}^active=true^ORDERBYDESCname`, 'index');
    check('sys_user', `user_name=${name(7)}^NQuser_nameIN${name(8)},${name(2)}^ORDERBYname`, 'index');
    check('sys_user', 'user_name=', 'index');
    const ids = sysIds('sys_user');
    check('sys_user', `sys_idIN${ids.slice(3, 40).join(',')},${(ids[50] ?? '').toUpperCase()}`, 'index');
    check('sys_user', `sys_id=${(ids[9] ?? '').toUpperCase()}`, 'index');
    check('sys_user', `sys_idIN${ids.slice(0, 30).join(',')}^ORDERBYsys_id`, 'index');

    const member = [...store().table('sys_user_grmember').inCreationOrder()][42];
    const user = read('sys_user_grmember', member, 'user');
    const group = read('sys_user_grmember', member, 'group');
    check('sys_user_grmember', `user=${user}`, 'index');
    check('sys_user_grmember', `group=${group}^ORDERBYsys_id`, 'index');
    check('sys_user_grmember', `group=${group.toUpperCase()}`, 'index');
    check('sys_user_grmember', `userIN${user},${ids[20] ?? ''}^ORDERBYDESCsys_updated_on`, 'index');
    check(
      'sys_user_has_role',
      `user=${user}^NQrole=${read('sys_user_has_role', [...store().table('sys_user_has_role').inCreationOrder()][3], 'role')}`,
      'index',
    );

    check('incident', 'correlation_id=order-7', 'index');
    check('incident', 'correlation_id=', 'index');
    check('incident', 'correlation_idINORDER-moved,order-3^ORDERBYnumber', 'index');
    check('incident', 'correlation_id=Order-9^impact=2^ORDERBYDESCopened_at', 'index');
    check('incident', 'numberININC0010003,inc0010021,INC0010050^ORDERBYDESCnumber', 'index');
  });

  test('queries an index cannot serve fall back to the scan', () => {
    const users = [...store().table('sys_user').inCreationOrder()];
    const name = read('sys_user', users[3], 'user_name');
    check('sys_user', `user_name=${name}^NQactive=true^ORDERBYname`, 'scan');
    check('sys_user', `user_name=${name}^ORuser_name=nobody`, 'scan');
    check('sys_user', 'user_nameSTARTSWITHsim.user10000', 'scan');
    check('sys_user', `manager.user_name=${name}`, 'scan');
    check('sys_user', `user_name!=${name}^ORDERBYDESCuser_name^ORDERBYsys_id`, 'scan');
    check('incident', 'impact=2^ORDERBYcorrelation_id', 'scan');
  });

  test('keyset conditions on sys_id start the sys_id-ordered read at the bound', () => {
    const ids = sysIds('sys_user');
    const [a, b, c] = [ids[17] ?? '', ids[90] ?? '', ids[150] ?? ''];
    check('sys_user', `sys_id>${a}^ORDERBYsys_id`, 'seek');
    check('sys_user', `sys_id>=${a}^ORDERBYsys_id`, 'seek');
    check('sys_user', `sys_id>${a.slice(0, 5)}^ORDERBYsys_id`, 'seek');
    check('sys_user', `sys_id>${a}^sys_id>=${b}^active=true^ORDERBYsys_id`, 'seek');
    check('sys_user', `sys_id>${c}^NQsys_id>=${a}^user_nameLIKE5^ORDERBYsys_id`, 'seek');
    check('sys_user', `sys_id>${a}^NQactive=true^ORDERBYsys_id`, 'scan');
    check('sys_user', `sys_id>${a}^ORsys_id<${b}^ORDERBYsys_id`, 'scan');
    check('sys_user', `sys_id>${a}^ORDERBYDESCsys_id`, 'scan');
  });

  test('ordering by other fields keeps ties in creation order under any window', () => {
    check('sys_user', 'ORDERBYlast_name', 'scan');
    check('sys_user', 'ORDERBYDESCfirst_name^ORDERBYlast_name', 'scan');
    check('sys_user_grmember', 'ORDERBYDESCsys_updated_on', 'scan');
    check('incident', 'ORDERBYimpact^ORDERBYDESCshort_description', 'scan');
  });

  test('paging to the end with keysets visits the rows a full sort gives', () => {
    const walk = (table: TableName, first: string, next: (last: Row) => string, order: string) => {
      const seen: string[] = [];
      let query = first;
      for (;;) {
        const compiled = compileQuery(store(), table, `${query}^${order}`);
        const { rows } = selectPage(store(), table, compiled, {
          offset: 0,
          limit: 7,
          countAll: seen.length === 0,
        });
        const last = rows.at(-1);
        if (last === undefined) break;
        seen.push(...rows.map((row) => row[0] ?? ''));
        query = next(last);
      }
      const all = compileQuery(store(), table, `${first}^${order}`);
      const window = { offset: 0, limit: 100_000, countAll: true };
      assert.deepEqual(
        seen,
        bruteForce(store(), table, all, window).rows.map((row) => row[0]),
      );
    };
    walk('sys_user', 'sys_idISNOTEMPTY', (last) => `sys_id>${last[0]}`, 'ORDERBYsys_id');
    const on = (last: Row) => read('sys_user_grmember', last, 'sys_updated_on');
    walk(
      'sys_user_grmember',
      'sys_updated_on>=2024-01-01 00:00:00',
      (last) => `sys_updated_on>${on(last)}^NQsys_updated_on=${on(last)}^sys_id>${last[0]}`,
      'ORDERBYsys_updated_on^ORDERBYsys_id',
    );
  });
});
