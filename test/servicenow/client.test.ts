/** The ServiceNow client against the simulator over real HTTP on loopback. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { renderings, serviceNowFailure } from '../helpers/serviceNowErrors';
import { toActivityFailure } from '../../src/activities/failures';
import {
  ServiceNowClient,
  type CreatedTicket,
  type ServiceNowClientOptions,
} from '../../src/servicenow/client';
import { parseEncodedQuery } from '../../src/servicenow/encodedQuery';
import type { ServiceNowError } from '../../src/servicenow/errors';
import { ACCESS_REQUEST_ITEM_SYS_ID } from '../../src/simulator/server';
import { ManualClock, useSimulator, type SimulatorFixture } from '../helpers/simulator';

const CLIENT_SECRET = 'Client-S3cret-0fTheConnector';
const ADMIN_PASSWORD = 'Admin-Pa55word-Known-To-Test';

async function adminJson<T>(
  fixture: SimulatorFixture,
  path: string,
  method = 'GET',
  body?: unknown,
): Promise<T> {
  const response = await fixture.admin(path, { method, body });
  assert.equal(response.status, 200, `${method} ${path}: ${await response.clone().text()}`);
  return ((await response.json()) as { result: T }).result;
}

const setFaults = (fixture: SimulatorFixture, faults: Record<string, number>) =>
  adminJson(fixture, '/faults', 'PUT', faults);

const clearFaults = (fixture: SimulatorFixture) =>
  setFaults(fixture, { errorRate: 0, latencyMs: 0, dropRate: 0, burst429: 0, failAfterCommit: 0 });

/** Runs an action while the simulator injects faults, and clears them whatever happens. */
async function underFaults<T>(
  fixture: SimulatorFixture,
  faults: Record<string, number>,
  action: () => Promise<T>,
): Promise<T> {
  await setFaults(fixture, faults);
  try {
    return await action();
  } finally {
    await clearFaults(fixture);
  }
}

async function collect<T>(
  pages: AsyncIterable<{ rows: readonly T[] }>,
): Promise<{ rows: T[]; pages: number }> {
  const rows: T[] = [];
  let count = 0;
  for await (const page of pages) {
    rows.push(...page.rows);
    count++;
  }
  return { rows, pages: count };
}

/** Both attempts name the same ticket, exactly one says it created it, and the other ticket was retired. */
function assertConverged(results: readonly CreatedTicket[]): void {
  const [first, second] = results as [CreatedTicket, CreatedTicket];
  assert.equal(first.ticket.sysId, second.ticket.sysId);
  assert.equal(results.filter((result) => result.created).length, 1);
  const retired = results.flatMap((result) => result.duplicates);
  assert.ok(retired.length > 0 && retired.every((duplicate) => duplicate.retired), JSON.stringify(retired));
}

describe('ServiceNow client with Basic auth', () => {
  const fixture = useSimulator({ admin: { password: ADMIN_PASSWORD } });
  const client = (options: Partial<ServiceNowClientOptions> = {}) =>
    new ServiceNowClient({
      tableApiUrl: fixture.sim.tableApiUrl,
      credentials: { kind: 'basic', login: 'admin', password: ADMIN_PASSWORD },
      ...options,
    });
  /** A ticket with nothing but its correlation id. */
  const openTicket = async (table: 'incident' | 'sc_request', correlationId: string) =>
    (await client().createTicket({ table, correlationId, fields: {} })).ticket;
  /** The work notes and comments the simulator keeps for a ticket, oldest first. */
  const journalOf = async (number: string) =>
    (await adminJson<{ journal: { field: string; value: string }[] }>(fixture, `/tickets/${number}`)).journal;

  test('creates an incident once per correlation id and reads it back', async () => {
    const request = {
      table: 'incident',
      correlationId: 'snow-conn:ServiceNow:assignment-1:Added',
      fields: { short_description: 'Grant SAP access', caller_id: '6816f79cc0a8016401c5a33be04be441' },
    } as const;
    const first = await client().createTicket(request);
    assert.equal(first.created, true);
    assert.match(first.ticket.number, /^INC\d{7}$/);
    assert.equal(first.ticket.state, '1');
    assert.equal(first.ticket.stateLabel, 'New');
    assert.equal(first.ticket.active, true);

    const second = await client().createTicket(request);
    assert.equal(second.created, false);
    assert.equal(second.ticket.sysId, first.ticket.sysId);

    const read = await client().getTicket('incident', first.ticket.sysId);
    assert.equal(read.number, first.ticket.number);
    assert.equal(read.correlationId, request.correlationId);
  });

  test('a lost answer after the ticket was committed does not produce a second ticket on retry', async () => {
    const request = {
      table: 'incident',
      correlationId: 'lost-answer-1',
      fields: { short_description: 'x' },
    } as const;
    const error = await underFaults(fixture, { failAfterCommit: 1 }, () =>
      serviceNowFailure(() => client().createTicket(request)),
    );
    assert.equal(error.retryable, true);
    const retried = await client().createTicket(request);
    assert.equal(retried.created, false);
    assert.equal((await client().findByCorrelationId('incident', request.correlationId)).length, 1);
  });

  test('two concurrent attempts converge on one ticket and retire the other', async () => {
    const request = {
      table: 'incident',
      correlationId: 'racing-1',
      fields: { short_description: 'race' },
    } as const;
    // Latency makes both lookups answer before either create: the race a timed-out earlier attempt causes.
    const results = await underFaults(fixture, { latencyMs: 300 }, () =>
      Promise.all([client().createTicket(request), client().createTicket(request)]),
    );
    assertConverged(results);
    assert.deepEqual(
      (await client().findByCorrelationId('incident', request.correlationId)).map((ticket) => ticket.sysId),
      [results[0].ticket.sysId],
      'the duplicate no longer carries the correlation id',
    );
  });

  test('injection attempts in a correlation id stay literal', async () => {
    const victim = await openTicket('incident', 'victim');
    for (const hostile of ['x^NQactive=false', 'x^ORsys_id!=0', 'x^ORDERBYnumber']) {
      assert.deepEqual(await client().findByCorrelationId('incident', hostile), [], hostile);
      const created = await client().createTicket({ table: 'incident', correlationId: hostile, fields: {} });
      assert.equal(created.created, true, `${hostile} must not match the existing tickets`);
      const found = await client().findByCorrelationId('incident', hostile);
      assert.deepEqual(
        found.map((ticket) => ticket.sysId),
        [created.ticket.sysId],
      );
    }
    assert.equal((await client().getTicket('incident', victim.sysId)).active, true);
  });

  test('creates a catalog request through order_now and tags it with the correlation id', async () => {
    const request = {
      table: 'sc_request',
      correlationId: 'catalog-1',
      catalogItemSysId: ACCESS_REQUEST_ITEM_SYS_ID,
      fields: { short_description: 'Access to the finance share' },
    } as const;
    const { ticket, created } = await client().createTicket(request);
    assert.equal(created, true);
    assert.match(ticket.number, /^REQ\d{7}$/);
    assert.equal(ticket.requestState, 'requested');
    assert.equal((await client().createTicket(request)).ticket.sysId, ticket.sysId);
  });

  test('creates a catalog request through the Table API', async () => {
    const ticket = await openTicket('sc_request', 'catalog-2');
    assert.match(ticket.number, /^REQ\d{7}$/);
  });

  test('cancels an open ticket with a note, and cancelling again changes nothing', async () => {
    const ticket = await openTicket('incident', 'cancel-1');
    const canceled = await client().cancelTicket('incident', ticket.sysId, 'Revoked in Identity Manager');
    assert.equal(canceled.state, '8');
    assert.equal(canceled.active, false);
    const again = await client().cancelTicket('incident', ticket.sysId, 'again');
    assert.equal(again.modCount, canceled.modCount);

    assert.deepEqual(
      (await journalOf(ticket.number)).map((entry) => entry.value),
      ['Revoked in Identity Manager'],
    );
  });

  test('cancels a catalog request as closed_cancelled', async () => {
    const ticket = await openTicket('sc_request', 'cancel-2');
    const canceled = await client().cancelTicket('sc_request', ticket.sysId, 'Revoked');
    assert.equal(canceled.requestState, 'closed_cancelled');
    assert.equal(canceled.active, false);
  });

  test('adds work notes and comments', async () => {
    const ticket = await openTicket('incident', 'notes-1');
    const noted = await client().addNote('incident', ticket.sysId, 'Still waiting for the fulfiller');
    assert.equal(noted.modCount, ticket.modCount + 1);
    await client().addNote('incident', ticket.sysId, 'Visible to the caller', 'comments');
    assert.deepEqual(
      (await journalOf(ticket.number)).map((entry) => [entry.field, entry.value]),
      [
        ['work_notes', 'Still waiting for the fulfiller'],
        ['comments', 'Visible to the caller'],
      ],
    );
  });

  test('reads the outcome of a ticket closed by a fulfiller, with who closed it', async () => {
    const ticket = await openTicket('incident', 'closed-1');
    await adminJson(fixture, `/tickets/${ticket.number}/close`, 'POST', { notes: 'Access granted' });
    const closed = await client().getTicket('incident', ticket.sysId);
    assert.equal(closed.state, '7');
    assert.equal(closed.stateLabel, 'Closed');
    assert.equal(closed.active, false);
    assert.equal(closed.closeNotes, 'Access granted');
    assert.ok(closed.closeCode);
    assert.match(closed.closedAt ?? '', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.equal(closed.closedBy?.name, 'System Administrator');
  });

  test('batch status reads return every ticket asked for, across batches', async () => {
    const created = [];
    for (let index = 0; index < 120; index++) {
      created.push(await openTicket('incident', `batch-${index}`));
    }
    const missing = 'f'.repeat(32);
    const found = await client().getTickets('incident', [...created.map((ticket) => ticket.sysId), missing]);
    assert.equal(found.size, 120);
    assert.equal(found.has(missing), false);
    assert.equal(found.get(created[119]?.sysId ?? '')?.number, created[119]?.number);
  });

  test('streams a table across many pages with keyset paging, one page in memory at a time', async () => {
    await adminJson(fixture, '/seed', 'POST', { users: 2_500, groups: 10, membershipsPerUser: 1 });
    const { rows, pages } = await collect(
      client({ pageSize: 100 }).streamTable('sys_user', { fields: ['user_name'] }),
    );
    assert.ok(pages >= 26, `expected at least 26 pages, got ${pages}`);
    const ids = rows.map((row) => row.sys_id ?? '');
    assert.equal(new Set(ids).size, ids.length, 'no row twice');
    assert.ok(rows.length >= 2_501);
    assert.deepEqual(ids, [...ids].sort(), 'sys_id order');
    assert.ok(rows.every((row) => Object.keys(row).sort().join() === 'sys_id,user_name'));
  });

  test('resumes a table stream after a sys_id and applies a configured filter', async () => {
    const all = (await collect(client({ pageSize: 500 }).streamTable('sys_user'))).rows;
    const middle = all[1_000]?.sys_id ?? '';
    const rest = (await collect(client({ pageSize: 500 }).streamTable('sys_user', { afterSysId: middle })))
      .rows;
    assert.equal(rest.length, all.length - 1_001);
    const filter = parseEncodedQuery('user_nameSTARTSWITHadmin^NQuser_name=nobody');
    const filtered = (await collect(client().streamTable('sys_user', { filter }))).rows;
    assert.deepEqual(
      filtered.map((row) => row.user_name),
      ['admin'],
    );
  });

  test("a filter's own ORDERBY cannot derail keyset paging", async () => {
    const filter = parseEncodedQuery('active=true^ORDERBYDESCuser_name');
    const expected = (
      await collect(client().streamTable('sys_user', { filter: parseEncodedQuery('active=true') }))
    ).rows;
    const { rows, pages } = await collect(client({ pageSize: 50 }).streamTable('sys_user', { filter }));
    assert.ok(pages > 10);
    assert.deepEqual(
      rows.map((row) => row.sys_id),
      expected.map((row) => row.sys_id),
    );
  });

  test('bad query values are invalid-request ServiceNowErrors, never retried', async () => {
    for (const correlationId of ['javascript:gs.getUserID()', 'line\nbreak']) {
      const error = await serviceNowFailure(() =>
        client().createTicket({ table: 'incident', correlationId, fields: {} }),
      );
      assert.equal(error.kind, 'invalid-request');
      assert.equal(error.retryable, false);
      assert.match(error.message, /field 'correlation_id'/);
    }
  });

  test('follows Link rel="next" for listings and reports X-Total-Count', async () => {
    const pages = [];
    for await (const page of client({ pageSize: 1_000 }).listPages('sys_user_grmember')) pages.push(page);
    assert.ok(pages.length >= 3);
    assert.equal(
      pages[0]?.totalCount,
      pages.reduce((sum, page) => sum + page.rows.length, 0),
    );
  });

  test('streams rows changed since a watermark, including rows updated while it reads', async () => {
    const clientPaged = client({ pageSize: 2 });
    const tickets = [];
    for (let index = 0; index < 5; index++) {
      tickets.push(await openTicket('incident', `changed-${index}`));
    }
    const since = tickets[0]?.updatedOn ?? '';
    const seen: string[] = [];
    for await (const page of clientPaged.streamChangedSince('incident', since, { fields: ['number'] })) {
      for (const row of page.rows) seen.push(row.number ?? '');
      // A ticket already read changes: keyset order puts it behind the cursor, so it comes again (not skipped).
      if (seen.length === 2) await client().addNote('incident', tickets[0]?.sysId ?? '', 'touched');
    }
    for (const ticket of tickets) assert.ok(seen.includes(ticket.number), `${ticket.number} missing`);
  });

  test('sets a password that works, and forces a change at next login', async () => {
    const user = await fixture.create('sys_user', {
      user_name: 'jdoe.pw',
      first_name: 'Jane',
      last_name: 'Doe',
    });
    const found = await client().findUser('JDOE.PW');
    assert.equal(found?.sys_id, user.sys_id);
    await client().setUserPassword({ sysId: user.sys_id ?? '' }, 'New-Pa55word-For-Jane');

    const asJane = new ServiceNowClient({
      tableApiUrl: fixture.sim.tableApiUrl,
      credentials: { kind: 'basic', login: 'jdoe.pw', password: 'New-Pa55word-For-Jane' },
    });
    const refused = await serviceNowFailure(() => asJane.findUser('jdoe.pw'));
    assert.equal(refused.status, 401, 'password_needs_reset is set');
    assert.ok(!refused.message.includes('New-Pa55word-For-Jane'));
    // Once the reset flag is cleared the new password logs in: it was stored as a usable password.
    await fixture.call(`/api/now/table/sys_user/${user.sys_id}`, {
      method: 'PATCH',
      body: { password_needs_reset: 'false' },
    });
    assert.equal((await asJane.findUser('jdoe.pw'))?.sys_id, user.sys_id);
  });

  test('refuses a correlation id ServiceNow would truncate (it would never match again) or an empty one', async () => {
    for (const correlationId of ['x'.repeat(101), '']) {
      const error = await serviceNowFailure(() =>
        client().createTicket({ table: 'incident', correlationId, fields: {} }),
      );
      assert.equal(error.kind, 'invalid-request');
      assert.match(
        error.message,
        correlationId === '' ? /empty/ : /101 characters long; ServiceNow keeps only 100/,
      );
    }
    assert.equal(
      (await client().createTicket({ table: 'incident', correlationId: 'y'.repeat(100), fields: {} }))
        .created,
      true,
    );
  });

  test('refuses unknown field names instead of letting ServiceNow ignore them', async () => {
    const error = await serviceNowFailure(() =>
      client().createTicket({ table: 'incident', correlationId: 'typo', fields: { short_descripton: 'x' } }),
    );
    assert.equal(error.kind, 'invalid-request');
    assert.match(error.message, /'short_descripton'/);
    await assert.rejects(
      () => collect(client().streamTable('sys_user', { fields: ['user_nam'] })),
      /'user_nam'/,
    );
  });

  test('a write blocked by a data policy reports ServiceNow message and detail', async () => {
    const error = await serviceNowFailure(() =>
      client().createTicket({ table: 'incident', correlationId: 'policy-1', fields: { state: '7' } }),
    );
    assert.equal(error.status, 403);
    assert.equal(error.serviceNowMessage, 'Operation Failed');
    assert.match(error.detail ?? '', /Data Policy Exception/);
    assert.equal(error.retryable, false);
    assert.equal(error.table, 'incident');
  });

  test('a missing record is a 404 naming the record', async () => {
    const error = await serviceNowFailure(() =>
      client().cancelTicket('incident', 'e'.repeat(32), 'not there'),
    );
    assert.equal(error.status, 404);
    assert.equal(error.serviceNowMessage, 'No Record found');
    assert.equal(error.retryable, false);
    assert.equal(error.record, 'e'.repeat(32));
    assert.match(error.message, /incident e{32}/);
  });
});

describe('ServiceNow client racing attempts within one second', () => {
  // A stopped clock: every ticket has the same sys_created_on, so only the number can order them.
  const frozen = new ManualClock();
  const fixture = useSimulator({ now: frozen.now, admin: { password: ADMIN_PASSWORD } });
  const client = () =>
    new ServiceNowClient({
      tableApiUrl: fixture.sim.tableApiUrl,
      credentials: { kind: 'basic', login: 'admin', password: ADMIN_PASSWORD },
    });

  test('the older of two tickets created in the same second comes first, whatever their sys_ids', async () => {
    const older = await fixture.create('incident', { sys_id: 'f'.repeat(32), correlation_id: 'same-second' });
    const newer = await fixture.create('incident', { sys_id: '0'.repeat(32), correlation_id: 'same-second' });
    assert.equal(older.sys_created_on, newer.sys_created_on);
    const found = await client().findByCorrelationId('incident', 'same-second');
    assert.deepEqual(
      found.map((ticket) => ticket.number),
      [older.number, newer.number],
    );
    const result = await client().createTicket({
      table: 'incident',
      correlationId: 'same-second',
      fields: {},
    });
    assert.equal(result.ticket.number, older.number);
    assert.deepEqual(result.duplicates, [{ number: newer.number, retired: true }]);
  });

  test('every race ends with one ticket that all attempts agree on', async () => {
    for (let race = 0; race < 5; race++) {
      const request = { table: 'incident', correlationId: `same-second-${race}`, fields: {} } as const;
      const results = await underFaults(fixture, { latencyMs: 200 }, () =>
        Promise.all([client().createTicket(request), client().createTicket(request)]),
      );
      assertConverged(results);
      const winner = results[0].ticket;
      const open = await fixture.call(
        `/api/now/table/incident?sysparm_query=active=true^short_descriptionISEMPTY^sys_id!=${winner.sysId}^numberSTARTSWITHINC&sysparm_fields=correlation_id`,
      );
      const leftovers = ((await open.json()) as { result: { correlation_id: string }[] }).result;
      assert.ok(
        leftovers.every((row) => row.correlation_id !== request.correlationId),
        'no other open ticket carries the correlation id',
      );
    }
  });
});

describe('ServiceNow client error kinds, Retry-After and secrets', () => {
  const fixture = useSimulator({
    admin: { password: ADMIN_PASSWORD },
    oauth: { clientSecret: CLIENT_SECRET },
  });
  const basic = (options: Partial<ServiceNowClientOptions> = {}) =>
    new ServiceNowClient({
      tableApiUrl: fixture.sim.tableApiUrl,
      credentials: { kind: 'basic', login: 'admin', password: ADMIN_PASSWORD },
      ...options,
    });
  const oauth = () =>
    new ServiceNowClient({
      tableApiUrl: fixture.sim.tableApiUrl,
      credentials: {
        kind: 'oauth',
        tokenUrl: fixture.sim.oauthUrl,
        clientId: fixture.sim.credentials.clientId,
        clientSecret: CLIENT_SECRET,
        login: 'admin',
        password: ADMIN_PASSWORD,
      },
    });
  const errors: ServiceNowError[] = [];
  const provoke = async (action: () => Promise<unknown>) => {
    const error = await serviceNowFailure(action);
    errors.push(error);
    return error;
  };
  const anyTicket = 'c'.repeat(32);

  test('a wrong Basic password on the Table API is an auth error (401) that activities keep retrying', async () => {
    const wrongPassword = `${ADMIN_PASSWORD}-wrong`;
    const error = await provoke(() =>
      new ServiceNowClient({
        tableApiUrl: fixture.sim.tableApiUrl,
        credentials: { kind: 'basic', login: 'admin', password: wrongPassword },
      }).getTicket('incident', anyTicket),
    );
    assert.equal(error.kind, 'auth');
    assert.equal(error.status, 401);
    assert.equal(error.operation, 'read');
    assert.equal(error.serviceNowMessage, 'User Not Authenticated');
    // Asking again with the same password cannot help; an operator fixing it can, and the order must wait.
    assert.equal(error.retryable, false);
    const encoded = Buffer.from(`admin:${wrongPassword}`).toString('base64');
    for (const text of renderings(error)) {
      for (const secret of [wrongPassword, ADMIN_PASSWORD, encoded]) {
        assert.ok(!text.includes(secret), `secret in: ${text}`);
      }
    }
    const failure = toActivityFailure(error);
    assert.equal(failure.type, 'ServiceNow.auth');
    assert.equal(failure.nonRetryable, false);
    assert.match(
      failure.message,
      /ServiceNow read on incident .* failed with HTTP 401: User Not Authenticated/,
    );
    assert.ok(!failure.message.includes(wrongPassword));
  });

  test('the token endpoint refusing a wrong client secret is an auth error', async () => {
    const error = await provoke(() =>
      new ServiceNowClient({
        tableApiUrl: fixture.sim.tableApiUrl,
        credentials: {
          kind: 'oauth',
          tokenUrl: fixture.sim.oauthUrl,
          clientId: fixture.sim.credentials.clientId,
          clientSecret: `${CLIENT_SECRET}-wrong`,
          login: 'admin',
          password: ADMIN_PASSWORD,
        },
      }).getTicket('incident', anyTicket),
    );
    assert.equal(error.kind, 'auth');
    assert.equal(error.operation, 'token');
    assert.equal(error.serviceNowMessage, 'access_denied');
  });

  test('5xx answers are retryable', async () => {
    const error = await underFaults(fixture, { errorRate: 1 }, () =>
      provoke(() => oauth().getTicket('incident', anyTicket)),
    );
    assert.ok((error.status ?? 0) >= 500);
    assert.equal(error.retryable, true);
  });

  test('a dropped connection is a retryable network error', async () => {
    const error = await underFaults(fixture, { dropRate: 1 }, () =>
      provoke(() => basic().getTicket('incident', anyTicket)),
    );
    assert.equal(error.kind, 'network');
    assert.equal(error.retryable, true);
  });

  test('no answer within the timeout is a retryable timeout', async () => {
    const error = await underFaults(fixture, { latencyMs: 2_000 }, () =>
      provoke(() => basic({ timeoutMs: 200 }).getTicket('incident', anyTicket)),
    );
    assert.equal(error.kind, 'timeout');
    assert.equal(error.retryable, true);
  });

  test('an aborted call is canceled', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const error = await underFaults(fixture, { latencyMs: 2_000 }, () =>
      provoke(() =>
        basic().createTicket(
          { table: 'incident', correlationId: 'aborted', fields: {} },
          { signal: controller.signal },
        ),
      ),
    );
    assert.equal(error.kind, 'canceled');
  });

  test('429 carries the delay from Retry-After', async () => {
    await setFaults(fixture, { burst429: 1, retryAfterSeconds: 42 });
    const error = await provoke(() => oauth().getTicket('incident', anyTicket));
    assert.equal(error.status, 429);
    assert.equal(error.retryable, true);
    assert.equal(error.retryAfterMs, 42_000);
    assert.match(error.message, /retry after 42 s/);
  });

  test('a hibernating instance answering HTML is a retryable not-json error', async () => {
    await adminJson(fixture, '/hibernate', 'PUT', { hibernating: true });
    try {
      const error = await provoke(() => oauth().getTicket('incident', anyTicket));
      assert.equal(error.kind, 'not-json');
    } finally {
      await adminJson(fixture, '/hibernate', 'PUT', { hibernating: false });
    }
  });

  test('a too-large answer is refused', async () => {
    const error = await provoke(() => collect(basic({ maxResponseBytes: 200 }).streamTable('sys_user_role')));
    assert.equal(error.kind, 'response-too-large');
  });

  test('no error exposes a password, client secret, token or Authorization header', async () => {
    // Obtain real tokens so there is something to leak.
    assert.ok(await oauth().findUser('admin'));
    const tokenResponse = await fetch(fixture.sim.oauthUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: fixture.sim.credentials.clientId,
        client_secret: CLIENT_SECRET,
        username: 'admin',
        password: ADMIN_PASSWORD,
      }),
    });
    const tokens = (await tokenResponse.json()) as { access_token: string; refresh_token: string };
    const secrets = [
      ADMIN_PASSWORD,
      CLIENT_SECRET,
      tokens.access_token,
      tokens.refresh_token,
      Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64'),
    ];
    assert.ok(errors.length >= 8, `expected every error kind above, got ${errors.length}`);
    for (const error of errors) {
      for (const text of renderings(error)) {
        for (const secret of secrets)
          assert.ok(!text.includes(secret), `secret in ${error.kind} error: ${text}`);
        assert.ok(
          !/authorization["']?\s*[:=]|bearer |basic /i.test(text),
          `header in ${error.kind} error: ${text}`,
        );
      }
    }
  });
});

describe('ServiceNow client with OAuth', () => {
  const clock = new ManualClock();
  const fixture = useSimulator({
    now: clock.now,
    admin: { password: ADMIN_PASSWORD },
    oauth: { clientSecret: CLIENT_SECRET, clientCredentials: { enabled: true } },
  });
  const oauthClient = (options: { login?: string; now?: () => Date } = { login: 'admin' }) =>
    new ServiceNowClient({
      tableApiUrl: fixture.sim.tableApiUrl,
      now: options.now ?? clock.now,
      credentials: {
        kind: 'oauth',
        tokenUrl: fixture.sim.oauthUrl,
        clientId: fixture.sim.credentials.clientId,
        clientSecret: CLIENT_SECRET,
        login: options.login,
        password: options.login === undefined ? undefined : ADMIN_PASSWORD,
      },
    });
  const tokenRequests = async () => {
    const stats = await adminJson<{ requests: { byMethodAndTarget: Record<string, number> } }>(
      fixture,
      '/stats',
    );
    return stats.requests.byMethodAndTarget['POST oauth_token'] ?? 0;
  };

  test('password grant: one token request shared by concurrent callers and reused until expiry', async () => {
    const client = oauthClient();
    const before = await tokenRequests();
    await Promise.all(Array.from({ length: 10 }, () => client.findUser('admin')));
    await client.findUser('admin');
    assert.equal((await tokenRequests()) - before, 1);
  });

  test('renews with the refresh token shortly before the 1800 s lifetime ends', async () => {
    const client = oauthClient();
    await client.findUser('admin');
    const before = await tokenRequests();
    clock.advance(1_790);
    await client.findUser('admin');
    assert.equal((await tokenRequests()) - before, 1);
  });

  test('a 401 on a token the client still trusts is renewed once and the call succeeds', async () => {
    const clientClock = new ManualClock();
    const client = oauthClient({ login: 'admin', now: clientClock.now });
    await client.findUser('admin');
    clock.advance(2_000); // the instance's token expired; the client's clock says it is fresh
    assert.equal((await client.findUser('admin'))?.user_name, 'admin');
  });

  test('client_credentials grant without a login', async () => {
    assert.equal((await oauthClient({}).findUser('admin'))?.user_name, 'admin');
  });
});
