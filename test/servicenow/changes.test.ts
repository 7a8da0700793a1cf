/** Reading the connector's changed tickets (the sweep's ServiceNow side) against the simulator over HTTP. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ticketChangesSince, type ChangePage, type ChangeReadOptions } from '../../src/servicenow/changes';
import { ServiceNowClient } from '../../src/servicenow/client';
import { ServiceNowError } from '../../src/servicenow/errors';
import { CORRELATION_DISPLAY } from '../../src/servicenow/ticketCreation';
import { formatServiceNowDateTime } from '../../src/export/timestamps';
import { useLoopbackServer } from '../helpers/loopbackServer';
import { connectorTicket } from '../helpers/connectorTickets';
import { ManualClock, useSimulator } from '../helpers/simulator';

async function readAll(
  client: ServiceNowClient,
  since: string,
  options: ChangeReadOptions,
): Promise<ChangePage[]> {
  const pages: ChangePage[] = [];
  for await (const page of ticketChangesSince(client, 'incident', since, options)) pages.push(page);
  return pages;
}

describe('ticketChangesSince (simulator over HTTP)', () => {
  const clock = new ManualClock('2024-05-01T10:00:00Z');
  const fixture = useSimulator({ now: clock.now });
  const client = () =>
    new ServiceNowClient({
      tableApiUrl: fixture.sim.tableApiUrl,
      credentials: { kind: 'basic', ...fixture.sim.credentials },
    });

  /** Every test reads its own day, so that the tickets of the others are before its `since`. */
  function nextDay(): string {
    clock.advance(86_400);
    return formatServiceNowDateTime(clock.now());
  }

  const ticket = (correlationId: string, extra: Record<string, string> = {}) =>
    connectorTicket(fixture, correlationId, extra);

  test('reads every changed ticket once, in pages of the given size, by keyset and never by offset', async () => {
    const since = nextDay();
    const created: Record<string, string>[] = [];
    for (let i = 0; i < 7; i++) {
      created.push(await ticket(`order-${i}`));
      if (i % 3 === 0) clock.advance(1);
    }
    const pages = await readAll(client(), since, { pageSize: 3 });
    assert.deepEqual(
      pages.map((page) => page.changes.length),
      [3, 3, 1],
    );
    const read = pages.flatMap((page) => page.changes);
    assert.deepEqual(read.map((change) => change.sysId).sort(), created.map((row) => row.sys_id).sort());
    for (const change of read) {
      const row = created.find((candidate) => candidate.sys_id === change.sysId);
      assert.equal(change.correlationId, row?.correlation_id);
      assert.equal(change.number, row?.number);
      assert.equal(change.sysModCount, 0);
      assert.equal(change.updatedOn, row?.sys_updated_on);
    }
    // In (sys_updated_on, sys_id) order, and each page's position is its last row.
    const keys = read.map((change) => `${change.updatedOn} ${change.sysId}`);
    assert.deepEqual(keys, [...keys].sort());
    for (const page of pages) {
      const last = page.changes.at(-1);
      assert.deepEqual(page.position, { updatedOn: last?.updatedOn, sysId: last?.sysId });
    }
    const response = await fixture.admin('/requests?limit=4');
    const urls = ((await response.json()) as { result: { url: string }[] }).result.map((r) => r.url);
    for (const url of urls) {
      const params = new URL(url, fixture.sim.url).searchParams;
      assert.equal(params.get('sysparm_offset'), null);
      assert.equal(params.get('sysparm_limit'), '3');
      assert.match(params.get('sysparm_query') ?? '', /correlation_display=snow-ticket-connector/);
      assert.equal(
        params.get('sysparm_fields'),
        'sys_id,number,correlation_id,correlation_display,sys_mod_count,sys_updated_on',
      );
    }
  });

  test('a ticket updated exactly at `since` is read; one updated before is not, until it changes again', async () => {
    const before = await ticket('order-before');
    clock.advance(1);
    const since = formatServiceNowDateTime(clock.now());
    const atBoundary = await ticket('order-boundary');
    assert.equal(atBoundary.sys_updated_on, since);
    let read = (await readAll(client(), since, { pageSize: 10 })).flatMap((page) => page.changes);
    assert.deepEqual(
      read.map((change) => change.correlationId),
      ['order-boundary'],
    );
    clock.advance(5);
    await fixture.update('incident', before.sys_id ?? '', { work_notes: 'changed' });
    read = (await readAll(client(), since, { pageSize: 10 })).flatMap((page) => page.changes);
    assert.deepEqual(
      read.map((change) => [change.correlationId, change.sysModCount]),
      [
        ['order-boundary', 0],
        ['order-before', 1],
      ],
    );
  });

  test('resumes after a position without reading what came before it again', async () => {
    const since = nextDay();
    for (let i = 0; i < 5; i++) await ticket(`resume-${i}`);
    const [first] = await readAll(client(), since, { pageSize: 2 });
    assert.ok(first !== undefined);
    const rest = (await readAll(client(), since, { pageSize: 2, after: first.position })).flatMap(
      (page) => page.changes,
    );
    assert.equal(rest.length, 3);
    const firstIds = new Set(first.changes.map((change) => change.sysId));
    assert.ok(rest.every((change) => !firstIds.has(change.sysId)));
  });

  test('a ticket updated while the read runs is read again with its new version, not skipped', async () => {
    const since = nextDay();
    const rows = [];
    for (let i = 0; i < 4; i++) rows.push(await ticket(`moving-${i}`));
    const pages = ticketChangesSince(client(), 'incident', since, { pageSize: 2 });
    const first = await pages.next();
    assert.ok(first.done !== true);
    // A ticket the cursor has passed changes: it moves ahead of the cursor.
    const passed = first.value.changes[0];
    assert.ok(passed !== undefined);
    clock.advance(10);
    await fixture.update('incident', passed.sysId, { work_notes: 'changed during the read' });
    const later = [];
    for await (const page of pages) later.push(...page.changes);
    assert.deepEqual(
      later.filter((change) => change.sysId === passed.sysId).map((change) => change.sysModCount),
      [1],
    );
    assert.equal(later.length, 3);
  });

  test("tickets without the connector's correlation_display are not read", async () => {
    const since = nextDay();
    await fixture.create('incident', { short_description: 'manual', correlation_id: 'order-x' });
    await fixture.create('incident', {
      short_description: 'other tool',
      correlation_id: 'order-y',
      correlation_display: 'another-connector',
    });
    const mine = await ticket('order-z');
    const read = (await readAll(client(), since, { pageSize: 10 })).flatMap((page) => page.changes);
    assert.deepEqual(
      read.map((change) => change.sysId),
      [mine.sys_id],
    );
  });
});

describe('ticketChangesSince checks what the instance answers', () => {
  let answer: Record<string, string>[] = [];
  const server = useLoopbackServer((request, response) => {
    const query = new URL(request.url ?? '/', 'http://x').searchParams.get('sysparm_query') ?? '';
    response.writeHead(200, { 'content-type': 'application/json' });
    // The first page answers the scripted rows; the next one (after them) is empty.
    response.end(JSON.stringify({ result: query.includes('sys_id>') ? [] : answer }));
  });
  const client = () =>
    new ServiceNowClient({
      tableApiUrl: `${server.url}/api/now/table`,
      credentials: { kind: 'basic', login: 'admin', password: 'secret' },
    });
  const row = (values: Record<string, string>) => ({
    sys_id: 'a'.repeat(32),
    number: 'INC0000001',
    correlation_id: 'order-1',
    correlation_display: CORRELATION_DISPLAY,
    sys_mod_count: '2',
    sys_updated_on: '2024-05-01 10:00:00',
    ...values,
  });

  async function failure(values: Record<string, string>): Promise<ServiceNowError> {
    answer = [row(values)];
    try {
      await readAll(client(), '2024-05-01 09:58:00', { pageSize: 10 });
    } catch (error) {
      assert.ok(error instanceof ServiceNowError);
      return error;
    }
    assert.fail('the answer was accepted');
  }

  test('a row the query cannot have matched (a dropped term) is a mismatch, not a row to use', async () => {
    const foreign = await failure({ correlation_display: 'another-connector' });
    assert.equal(foreign.kind, 'mismatch');
    assert.equal(foreign.record, 'INC0000001');
    const old = await failure({ sys_updated_on: '2024-05-01 09:00:00' });
    assert.equal(old.kind, 'mismatch');
  });

  test('a row without a usable sys_mod_count or sys_id is an invalid response', async () => {
    assert.equal((await failure({ sys_mod_count: '' })).kind, 'invalid-response');
    assert.equal((await failure({ sys_id: 'not-a-sys-id' })).kind, 'invalid-response');
  });

  test('a row that matches is read', async () => {
    answer = [row({ correlation_display: CORRELATION_DISPLAY.toUpperCase() })];
    const pages = await readAll(client(), '2024-05-01 09:58:00', { pageSize: 10 });
    assert.deepEqual(pages[0]?.changes, [
      {
        sysId: 'a'.repeat(32),
        number: 'INC0000001',
        correlationId: 'order-1',
        sysModCount: 2,
        updatedOn: '2024-05-01 10:00:00',
      },
    ]);
  });
});
