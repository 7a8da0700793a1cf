import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ADMIN_USER_SYS_ID } from '../../src/simulator/server';
import { ManualClock, useSimulator } from '../helpers/simulator';

/**
 * Contract of the simulated Table API (domain brief, section 3): envelopes, status codes, value formats,
 * reference rendering and paging, as a real instance answers them.
 */

const SYS_ID = /^[0-9a-f]{32}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;
const JSON_TYPE = 'application/json;charset=UTF-8';

type Envelope = { result: Record<string, unknown> };
type ListEnvelope = { result: Record<string, unknown>[] };

async function expectError(response: Response, status: number, message: string, detail?: RegExp | null) {
  assert.equal(response.status, status);
  assert.equal(response.headers.get('content-type'), JSON_TYPE);
  const body = (await response.json()) as {
    error: { message: string; detail: string | null };
    status: string;
  };
  assert.equal(body.status, 'failure');
  assert.equal(body.error.message, message);
  if (detail === null) assert.equal(body.error.detail, null);
  else if (detail !== undefined) assert.match(body.error.detail ?? '', detail);
}

describe('simulated Table API: records', () => {
  const clock = new ManualClock('2024-05-01T10:00:00Z');
  const snow = useSimulator({ now: clock.now });

  test('create answers 201, a Location with the record URL and string values', async () => {
    const response = await snow.call('/api/now/table/incident', {
      body: { short_description: 'Grant access', impact: 2, u_not_a_field: 'ignored', active: true },
    });
    assert.equal(response.status, 201);
    assert.equal(response.headers.get('content-type'), JSON_TYPE);
    const { result } = (await response.json()) as Envelope;
    assert.equal(
      response.headers.get('location'),
      `${snow.sim.tableApiUrl}/incident/${String(result.sys_id)}`,
    );
    assert.match(String(result.sys_id), SYS_ID);
    assert.equal(result.number, 'INC0010001');
    assert.equal(result.impact, '2');
    assert.equal(result.active, 'true');
    assert.equal(result.state, '1');
    assert.equal(result.sys_mod_count, '0');
    assert.equal(result.sys_created_on, '2024-05-01 10:00:00');
    assert.equal(result.sys_created_by, 'admin');
    assert.equal(result.sys_updated_by, 'admin');
    assert.ok(!('u_not_a_field' in result), 'unknown fields are ignored');
    for (const field of ['sys_created_on', 'sys_updated_on', 'opened_at'])
      assert.match(String(result[field]), DATE_TIME);
    const plain = await snow.call(
      `/api/now/table/incident/${String(result.sys_id)}?sysparm_exclude_reference_link=true`,
    );
    for (const [field, value] of Object.entries(((await plain.json()) as Envelope).result)) {
      assert.equal(typeof value, 'string', `${field} is a string`);
    }
  });

  test('numbers follow a sequence per table', async () => {
    assert.equal((await snow.create('incident', { short_description: 'second' })).number, 'INC0010002');
    assert.equal((await snow.create('sc_request', {})).number, 'REQ0010001');
    assert.equal((await snow.create('sc_req_item', {})).number, 'RITM0010001');
    assert.equal((await snow.create('sc_task', {})).number, 'SCTASK0010001');
    assert.equal((await snow.create('incident', {})).number, 'INC0010003');
  });

  test('a caller-chosen sys_id is kept on insert; inserting it again is 403', async () => {
    const sysId = 'a'.repeat(32);
    assert.equal((await snow.create('incident', { sys_id: sysId })).sys_id, sysId);
    await expectError(
      await snow.call('/api/now/table/incident', { body: { sys_id: sysId } }),
      403,
      'Operation Failed',
      /Error during insert of incident/,
    );
  });

  test('read answers 200 with the record; an unknown sys_id is 404 No Record found', async () => {
    const created = await snow.create('incident', { short_description: 'read me' });
    const response = await snow.call(`/api/now/table/incident/${created.sys_id}`);
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as Envelope).result.short_description, 'read me');
    await expectError(
      await snow.call(`/api/now/table/incident/${'0'.repeat(32)}`),
      404,
      'No Record found',
      /Record doesn't exist or ACL restricts the record retrieval/,
    );
  });

  test('PATCH and PUT update only the fields sent, stamp the update and increment sys_mod_count', async () => {
    const created = await snow.create('incident', { short_description: 'before', description: 'kept' });
    clock.advance(60);
    const patched = await snow.call(`/api/now/table/incident/${created.sys_id}`, {
      method: 'PATCH',
      body: { short_description: 'after patch', u_unknown: 'x' },
    });
    assert.equal(patched.status, 200);
    const { result } = (await patched.json()) as Envelope;
    assert.equal(result.short_description, 'after patch');
    assert.equal(result.description, 'kept');
    assert.equal(result.sys_mod_count, '1');
    assert.equal(result.sys_updated_on, '2024-05-01 10:01:00');
    assert.equal(result.sys_created_on, created.sys_created_on);

    const put = await snow.call(`/api/now/table/incident/${created.sys_id}`, {
      method: 'PUT',
      body: { description: 'after put' },
    });
    assert.equal(put.status, 200);
    const updated = ((await put.json()) as Envelope).result;
    assert.equal(updated.sys_mod_count, '2');
    assert.equal(updated.short_description, 'after patch');
  });

  test('an update that changes nothing is not written (sys_mod_count stays), as on the platform', async () => {
    const created = await snow.create('incident', { short_description: 'same' });
    const response = await snow.call(`/api/now/table/incident/${created.sys_id}`, {
      method: 'PATCH',
      body: { short_description: 'same' },
    });
    assert.equal(((await response.json()) as Envelope).result.sys_mod_count, '0');
  });

  test('updating or deleting an unknown record is 404', async () => {
    const path = `/api/now/table/incident/${'f'.repeat(32)}`;
    await expectError(
      await snow.call(path, { method: 'PATCH', body: { description: 'x' } }),
      404,
      'No Record found',
    );
    await expectError(await snow.call(path, { method: 'DELETE' }), 404, 'No Record found');
  });

  test('delete answers 204 with no body; the record is gone', async () => {
    const created = await snow.create('incident', { short_description: 'delete me' });
    const response = await snow.call(`/api/now/table/incident/${created.sys_id}`, { method: 'DELETE' });
    assert.equal(response.status, 204);
    assert.equal(await response.text(), '');
    assert.equal((await snow.call(`/api/now/table/incident/${created.sys_id}`)).status, 404);
  });

  test('a known URL with a method it does not take is 405 Method not Supported, not an unknown resource', async () => {
    const record = `/api/now/table/incident/${'f'.repeat(32)}`;
    for (const [method, path] of [
      ['PUT', '/api/now/table/incident'],
      ['PATCH', '/api/now/table/incident'],
      ['DELETE', '/api/now/table/incident'],
      ['POST', record],
    ] as const) {
      const body = method === 'DELETE' ? undefined : {};
      await expectError(
        await snow.call(path, { method, body }),
        405,
        'Method not Supported',
        new RegExp(`^${method} method not supported for API$`),
      );
    }
  });

  test('a URL that cannot be decoded is answered in the platform envelope', async () => {
    await expectError(
      await snow.call('/api/now/table/inc%E0%A4%Aident'),
      400,
      'Requested URI does not represent any resource',
    );
  });

  test('an unknown table is 400 Invalid table, with a null detail', async () => {
    await expectError(await snow.call('/api/now/table/u_tickets'), 400, 'Invalid table u_tickets', null);
    await expectError(
      await snow.call('/api/now/table/u_tickets', { body: {} }),
      400,
      'Invalid table u_tickets',
    );
  });

  test('bad JSON and a body that is not an object are 400 Exception while reading request', async () => {
    await expectError(
      await snow.call('/api/now/table/incident', { body: '{"short_description":' }),
      400,
      'Exception while reading request',
    );
    await expectError(
      await snow.call('/api/now/table/incident', { body: '[1,2]' }),
      400,
      'Exception while reading request',
    );
  });

  test('a body over 10 MB is 400 Exception while reading request', async () => {
    const huge = JSON.stringify({ description: 'x'.repeat(10 * 1024 * 1024) });
    await expectError(
      await snow.call('/api/now/table/incident', { body: huge }),
      400,
      'Exception while reading request',
    );
  });

  test('missing or wrong credentials are 401 User Not Authenticated with WWW-Authenticate', async () => {
    for (const as of ['none', { login: 'admin', password: 'wrong' }, { bearer: 'not-a-token' }] as const) {
      const response = await snow.call('/api/now/table/incident', { as });
      assert.ok(response.headers.get('www-authenticate')?.startsWith('BASIC'));
      await expectError(response, 401, 'User Not Authenticated', /^Required to provide Auth information$/);
    }
  });

  test('an empty list is {"result": []}', async () => {
    const response = await snow.call('/api/now/table/sys_user_group');
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { result: [] });
  });

  test('sysparm_fields returns the fields asked for, skipping unknown names', async () => {
    const created = await snow.create('incident', {
      short_description: 'fields',
      correlation_id: 'fields-1',
    });
    const response = await snow.call(
      '/api/now/table/incident?sysparm_query=correlation_id=fields-1&sysparm_fields=number,u_typo,short_description',
    );
    assert.deepEqual(((await response.json()) as ListEnvelope).result, [
      { number: created.number, short_description: 'fields' },
    ]);
  });

  test('journal fields are accepted, read back empty and kept in the journal', async () => {
    const created = await snow.create('incident', { short_description: 'journal', work_notes: 'first note' });
    assert.equal(created.work_notes, '');
    const detail = await snow.admin(`/tickets/${created.number}`);
    const { result } = (await detail.json()) as { result: { journal: { field: string; value: string }[] } };
    assert.deepEqual(
      result.journal.map(({ field, value }) => ({ field, value })),
      [{ field: 'work_notes', value: 'first note' }],
    );
  });

  test('a value longer than the field silently loses its end, as on the platform', async () => {
    const created = await snow.create('incident', { correlation_id: 'x'.repeat(150) });
    assert.equal(created.correlation_id, 'x'.repeat(100));
  });
});

describe('simulated Table API: references and display values', () => {
  const snow = useSimulator();
  let incident: Record<string, string>;
  const read = async (params: string) => {
    const response = await snow.call(`/api/now/table/incident/${incident.sys_id}?${params}`);
    return ((await response.json()) as Envelope).result;
  };

  test('setup: an incident whose caller is the admin', async () => {
    incident = await snow.create('incident', { short_description: 'refs', caller_id: ADMIN_USER_SYS_ID });
  });

  test('by default a reference is {link, value} and an empty reference is ""', async () => {
    const result = await read('');
    assert.deepEqual(result.caller_id, {
      link: `${snow.sim.tableApiUrl}/sys_user/${ADMIN_USER_SYS_ID}`,
      value: ADMIN_USER_SYS_ID,
    });
    assert.equal(result.assigned_to, '');
    assert.equal(result.state, '1');
  });

  test('sysparm_exclude_reference_link=true makes a reference its plain sys_id', async () => {
    assert.equal((await read('sysparm_exclude_reference_link=true')).caller_id, ADMIN_USER_SYS_ID);
  });

  test('sysparm_display_value=true gives display values (references keep their link)', async () => {
    const result = await read('sysparm_display_value=true');
    assert.deepEqual(result.caller_id, {
      display_value: 'System Administrator',
      link: `${snow.sim.tableApiUrl}/sys_user/${ADMIN_USER_SYS_ID}`,
    });
    assert.equal(result.state, 'New');
    assert.equal(result.number, incident.number);
    assert.equal(
      (await read('sysparm_display_value=true&sysparm_exclude_reference_link=true')).caller_id,
      'System Administrator',
    );
  });

  test('sysparm_display_value=all gives {display_value, value} for every field, plus link for references', async () => {
    const result = await read('sysparm_display_value=all');
    assert.deepEqual(result.state, { display_value: 'New', value: '1' });
    assert.deepEqual(result.short_description, { display_value: 'refs', value: 'refs' });
    assert.deepEqual(result.caller_id, {
      display_value: 'System Administrator',
      value: ADMIN_USER_SYS_ID,
      link: `${snow.sim.tableApiUrl}/sys_user/${ADMIN_USER_SYS_ID}`,
    });
    assert.deepEqual(result.assigned_to, { display_value: '', value: '' });
    for (const value of Object.values(result)) assert.equal(typeof value, 'object');
    assert.deepEqual(
      (await read('sysparm_display_value=all&sysparm_exclude_reference_link=true')).caller_id,
      {
        display_value: 'System Administrator',
        value: ADMIN_USER_SYS_ID,
      },
    );
  });

  test('references accept a sys_id or a display value on write', async () => {
    const byName = await snow.create('incident', { caller_id: 'admin' });
    assert.equal(byName.caller_id, ADMIN_USER_SYS_ID);
  });

  test('sysparm_fields may dot-walk a reference', async () => {
    assert.deepEqual(await read('sysparm_fields=number,caller_id.user_name'), {
      number: incident.number,
      'caller_id.user_name': 'admin',
    });
  });
});

describe('simulated Table API: paging', () => {
  const snow = useSimulator();
  const list = async (params: string) => {
    const response = await snow.call(`/api/now/table/sys_user_group?${params}`);
    assert.equal(response.status, 200);
    const { result } = (await response.json()) as ListEnvelope;
    return { response, names: result.map((group) => group.name), link: response.headers.get('link') };
  };
  const links = (header: string | null): Record<string, string> =>
    Object.fromEntries(
      (header ?? '').split(',').map((part): [string, string] => {
        const match = /^<([^>]+)>;rel="(\w+)"$/.exec(part);
        assert.ok(match, `RFC 8288 link: ${part}`);
        return [match[2] ?? '', match[1] ?? ''];
      }),
    );

  test('setup: five groups', async () => {
    for (const name of ['g1', 'g2', 'g3', 'g4', 'g5']) await snow.create('sys_user_group', { name });
  });

  test('one page: X-Total-Count and no Link header', async () => {
    const { response, names, link } = await list('sysparm_query=ORDERBYname');
    assert.deepEqual(names, ['g1', 'g2', 'g3', 'g4', 'g5']);
    assert.equal(response.headers.get('x-total-count'), '5');
    assert.equal(link, null);
  });

  test('several pages: first, prev, next and last as absolute URLs, prev absent first and next absent last', async () => {
    const first = await list('sysparm_query=ORDERBYname&sysparm_limit=2');
    assert.deepEqual(first.names, ['g1', 'g2']);
    assert.equal(first.response.headers.get('x-total-count'), '5');
    const firstLinks = links(first.link);
    assert.deepEqual(Object.keys(firstLinks), ['first', 'next', 'last']);
    assert.ok(firstLinks.next?.startsWith(`${snow.sim.tableApiUrl}/sys_user_group?`));
    assert.equal(new URL(firstLinks.last ?? '').searchParams.get('sysparm_offset'), '4');
    assert.equal(new URL(firstLinks.next ?? '').searchParams.get('sysparm_query'), 'ORDERBYname');

    const middle = await list('sysparm_query=ORDERBYname&sysparm_limit=2&sysparm_offset=2');
    assert.deepEqual(middle.names, ['g3', 'g4']);
    assert.deepEqual(Object.keys(links(middle.link)), ['first', 'prev', 'next', 'last']);

    const last = await list('sysparm_query=ORDERBYname&sysparm_limit=2&sysparm_offset=4');
    assert.deepEqual(last.names, ['g5']);
    assert.deepEqual(Object.keys(links(last.link)), ['first', 'prev', 'last']);
  });

  test('following rel="next" visits every record once', async () => {
    const seen: unknown[] = [];
    let next: string | undefined =
      `${snow.sim.tableApiUrl}/sys_user_group?sysparm_limit=2&sysparm_query=ORDERBYname`;
    while (next !== undefined) {
      const path: string = next.slice(snow.sim.url.length);
      const response = await snow.call(path);
      seen.push(...((await response.json()) as ListEnvelope).result.map((group) => group.name));
      next = links(response.headers.get('link')).next;
    }
    assert.deepEqual(seen, ['g1', 'g2', 'g3', 'g4', 'g5']);
  });

  test('sysparm_suppress_pagination_header drops Link; sysparm_no_count drops X-Total-Count', async () => {
    const suppressed = await list('sysparm_limit=2&sysparm_suppress_pagination_header=true');
    assert.equal(suppressed.link, null);
    assert.equal(suppressed.response.headers.get('x-total-count'), '5');
    const uncounted = await list('sysparm_limit=2&sysparm_no_count=true');
    assert.equal(uncounted.response.headers.get('x-total-count'), null);
    assert.notEqual(uncounted.link, null);
    const neither = await list(
      'sysparm_limit=2&sysparm_no_count=true&sysparm_suppress_pagination_header=true',
    );
    assert.deepEqual(neither.names, ['g1', 'g2']);
    assert.equal(neither.link, null);
    assert.equal(neither.response.headers.get('x-total-count'), null);
  });

  test('an offset too large to count exactly is ignored, so Link URLs keep whole-number offsets', async () => {
    const { names, link } = await list('sysparm_limit=2&sysparm_offset=99999999999999999999999');
    assert.deepEqual(names, ['g1', 'g2']);
    for (const url of Object.values(links(link))) {
      assert.match(new URL(url).searchParams.get('sysparm_offset') ?? '', /^\d+$/);
    }
  });

  test('an offset past the end gives an empty page; creation order is the default order', async () => {
    assert.deepEqual((await list('sysparm_offset=10')).names, []);
    assert.deepEqual((await list('sysparm_limit=3')).names, ['g1', 'g2', 'g3']);
  });
});

describe('simulated Table API: ACLs', () => {
  const snow = useSimulator();
  const plainUser = { login: 'plain.user', password: 'Plain-pass-1' };
  const fulfiller = { login: 'fulfiller', password: 'Fulfil-pass-1' };

  test('setup: a user without roles and an itil fulfiller', async () => {
    for (const user of [plainUser, fulfiller]) {
      await snow.call('/api/now/table/sys_user?sysparm_input_display_value=true', {
        body: { user_name: user.login, user_password: user.password },
      });
    }
    const itil = await snow.call(
      '/api/now/table/sys_user_role?sysparm_query=name=itil&sysparm_fields=sys_id',
    );
    const role = ((await itil.json()) as ListEnvelope).result[0]?.sys_id;
    await snow.create('sys_user_has_role', { user: fulfiller.login, role });
  });

  test('writing a ticket table without itil or admin is 403 Operation Failed with an ACL detail', async () => {
    await expectError(
      await snow.call('/api/now/table/incident', { body: { short_description: 'x' }, as: plainUser }),
      403,
      'Operation Failed',
      /ACL Exception Insert Failed due to security constraints/,
    );
    assert.equal(
      (await snow.call('/api/now/table/incident', { as: plainUser })).status,
      200,
      'reading is allowed',
    );
  });

  test('an itil user writes tickets but not passwords', async () => {
    const created = await snow.create('incident', { short_description: 'by itil' }, fulfiller);
    assert.equal(created.sys_created_by, fulfiller.login);
    const users = await snow.call(`/api/now/table/sys_user?sysparm_query=user_name=${plainUser.login}`);
    const target = ((await users.json()) as ListEnvelope).result[0]?.sys_id;
    await expectError(
      await snow.call(`/api/now/table/sys_user/${String(target)}?sysparm_input_display_value=true`, {
        method: 'PATCH',
        body: { user_password: 'Hijacked-1' },
        as: fulfiller,
      }),
      403,
      'Operation Failed',
      /ACL Exception Update Failed/,
    );
  });
});
