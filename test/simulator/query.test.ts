import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { useSimulator } from '../helpers/simulator';

/**
 * Contract of `sysparm_query` evaluation: every operator, `^OR`, `^NQ`, ordering, `^^` escaping, and the
 * platform's silent leniency towards unknown fields and unreadable terms.
 */

describe('simulated encoded queries', () => {
  const snow = useSimulator();
  /** Incidents by label: a..f, plus records whose descriptions contain `^`. */
  const numbers = new Map<string, string>();
  const labelOf = new Map<string, string>();
  let callerSysId = '';

  async function query(encoded: string): Promise<string[]> {
    const response = await snow.call(
      `/api/now/table/incident?sysparm_fields=number&sysparm_query=${encodeURIComponent(encoded)}`,
    );
    assert.equal(response.status, 200, await response.clone().text());
    const { result } = (await response.json()) as { result: { number: string }[] };
    return result.map((row) => labelOf.get(row.number) ?? row.number);
  }

  test('setup: incidents with known values', async () => {
    const caller = await snow.call('/api/now/table/sys_user?sysparm_input_display_value=true', {
      body: { user_name: 'abel.tuter', name: 'Abel Tuter' },
    });
    callerSysId = ((await caller.json()) as { result: { sys_id: string } }).result.sys_id;
    const rows: Record<string, Record<string, string>> = {
      a: {
        short_description: 'Alpha access',
        impact: '1',
        correlation_id: 'c-1',
        opened_at: '2024-01-05 08:00:00',
      },
      b: {
        short_description: 'beta ACCESS',
        impact: '2',
        correlation_id: 'c-2',
        opened_at: '2024-02-05 08:00:00',
      },
      c: { short_description: 'Gamma', impact: '3', correlation_id: '', opened_at: '2024-03-05 08:00:00' },
      d: {
        short_description: 'delta',
        impact: '2',
        caller_id: callerSysId,
        opened_at: '2024-04-05 08:00:00',
      },
      e: { short_description: 'a^b', impact: '3', opened_at: '2024-05-05 08:00:00' },
      f: { short_description: 'x^NQactive=false', impact: '3', opened_at: '2024-06-05 08:00:00' },
    };
    for (const [label, values] of Object.entries(rows)) {
      const created = await snow.create('incident', values);
      numbers.set(label, created.number ?? '');
      labelOf.set(created.number ?? '', label);
    }
    // c is canceled (inactive); b is updated 10 times so that sys_mod_count needs two digits.
    await snow.admin(`/tickets/${numbers.get('c')}/cancel`, { body: {} });
    const b = await snow.call(
      `/api/now/table/incident?sysparm_query=number=${numbers.get('b')}&sysparm_fields=sys_id`,
    );
    const bSysId = ((await b.json()) as { result: { sys_id: string }[] }).result[0]?.sys_id ?? '';
    for (let i = 1; i <= 10; i++) {
      await snow.call(`/api/now/table/incident/${bSysId}`, {
        method: 'PATCH',
        body: { description: `v${i}` },
      });
    }
  });

  test('= and != compare text case-insensitively', async () => {
    assert.deepEqual(await query('short_description=alpha ACCESS'), ['a']);
    assert.deepEqual(await query('short_description!=alpha access'), ['b', 'c', 'd', 'e', 'f']);
  });

  test('< <= > >= compare integers numerically', async () => {
    assert.deepEqual(await query('impact<2'), ['a']);
    assert.deepEqual(await query('impact<=2'), ['a', 'b', 'd']);
    assert.deepEqual(await query('impact>2'), ['c', 'e', 'f']);
    assert.deepEqual(await query('impact>=2^impact<3'), ['b', 'd']);
    assert.deepEqual(await query('sys_mod_count>9'), ['b'], '10 > 9 as numbers, not as text');
  });

  test('dates compare as their YYYY-MM-DD HH:MM:SS text', async () => {
    assert.deepEqual(await query('opened_at>=2024-03-01 00:00:00^opened_at<2024-05-01 00:00:00'), ['c', 'd']);
  });

  test('IN and NOT IN take comma-separated values', async () => {
    assert.deepEqual(await query(`numberIN${numbers.get('a')},${numbers.get('d')}`), ['a', 'd']);
    assert.deepEqual(await query('impactNOT IN1,2'), ['c', 'e', 'f']);
  });

  test('STARTSWITH, ENDSWITH, LIKE and NOT LIKE ignore case', async () => {
    assert.deepEqual(await query('short_descriptionSTARTSWITHbeta'), ['b']);
    assert.deepEqual(await query('short_descriptionENDSWITHaccess'), ['a', 'b']);
    assert.deepEqual(await query('short_descriptionLIKEmm'), ['c']);
    assert.deepEqual(await query('short_descriptionNOT LIKEaccess'), ['c', 'd', 'e', 'f']);
  });

  test('ISEMPTY and ISNOTEMPTY', async () => {
    assert.deepEqual(await query('correlation_idISNOTEMPTY'), ['a', 'b']);
    assert.deepEqual(await query('correlation_idISEMPTY'), ['c', 'd', 'e', 'f']);
  });

  test('booleans compare as true / false', async () => {
    assert.deepEqual(await query('active=false'), ['c']);
    assert.deepEqual((await query('active=true')).length, 5);
  });

  test('references compare by sys_id and dot-walk to the referenced record', async () => {
    assert.deepEqual(await query(`caller_id=${callerSysId}`), ['d']);
    assert.deepEqual(await query('caller_id.user_name=abel.tuter'), ['d']);
    assert.deepEqual(await query('caller_id.nameSTARTSWITHabel'), ['d']);
  });

  test('^ ands, ^OR ors with the previous term, ^NQ starts an or-ed group', async () => {
    assert.deepEqual(await query('impact=2^short_descriptionLIKEdel'), ['d']);
    assert.deepEqual(await query('impact=1^ORimpact=3^short_descriptionLIKEa'), ['a', 'c', 'e', 'f']);
    assert.deepEqual(await query('impact=1^NQshort_description=delta'), ['a', 'd']);
  });

  test('ORDERBY and ORDERBYDESC sort; integers numerically, text ignoring case', async () => {
    assert.deepEqual(await query('ORDERBYshort_description'), ['e', 'a', 'b', 'd', 'c', 'f']);
    assert.deepEqual(await query('ORDERBYDESCsys_mod_count^ORDERBYshort_description'), [
      'b',
      'c',
      'e',
      'a',
      'd',
      'f',
    ]);
    assert.deepEqual(await query('impact=3^ORDERBYDESCopened_at'), ['f', 'e', 'c']);
  });

  test('^^ is a literal ^: an escaped value matches only itself', async () => {
    assert.deepEqual(await query('short_description=a^^b'), ['e']);
    assert.deepEqual(await query('short_description=x^^NQactive=false'), ['f']);
  });

  test('an unescaped ^NQ inside a value widens the query: this is how the platform reads it', async () => {
    // `short_description=x` OR `active=false`: record c (canceled) leaks in, and f no longer matches.
    assert.deepEqual(await query('short_description=x^NQactive=false'), ['c']);
  });

  test('a term on an unknown field is dropped, so a typo matches every row', async () => {
    assert.equal((await query('u_typo=nothing')).length, 6);
    assert.deepEqual(await query('impact=1^u_typo=nothing'), ['a']);
    assert.deepEqual(await query('impact=1^ORu_typo=nothing'), ['a']);
    assert.equal((await query('caller_id.u_typo=x')).length, 6, 'an unknown dot-walked field too');
  });

  test('unreadable terms are dropped rather than refused', async () => {
    assert.deepEqual(await query('impact=1^Not A Term'), ['a']);
    assert.deepEqual(await query('impact=1^short_descriptionSAMEASdescription'), ['a']);
    assert.deepEqual(await query('^ORimpact=2^ORDERBYDESCnumber'), ['d', 'b']);
  });

  test('keyset paging with ORDERBYsys_id and sys_id> visits every record once, in sys_id order', async () => {
    const all: string[] = [];
    let last = '';
    for (;;) {
      const encoded = last === '' ? 'ORDERBYsys_id' : `ORDERBYsys_id^sys_id>${last}`;
      const response = await snow.call(
        `/api/now/table/incident?sysparm_fields=sys_id&sysparm_limit=4&sysparm_query=${encodeURIComponent(encoded)}`,
      );
      const page = ((await response.json()) as { result: { sys_id: string }[] }).result.map(
        (row) => row.sys_id,
      );
      if (page.length === 0) break;
      all.push(...page);
      last = page.at(-1) ?? '';
    }
    assert.equal(all.length, 6);
    assert.deepEqual(all, [...all].sort());
  });
});
