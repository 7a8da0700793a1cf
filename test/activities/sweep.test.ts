/**
 * The sweepTicketChanges activity against the simulator over real HTTP, run in Temporal's activity harness
 * (MockActivityEnvironment): heartbeats are observed and a retry is given the last heartbeat's details, as the
 * server gives them to the next attempt. Orders are told through a recording `notifyOrder`, except in the test of
 * the default one, which signals through a real dev server's client.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MockActivityEnvironment, type TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createSweepActivities, type NotifyOrder } from '../../src/activities/sweep';
import { orderWorkflowId } from '../../src/client/provisioning';
import type { TicketChangedSignal } from '../../src/contract/messages';
import { isOrderIdOf } from '../../src/contract/names';
import type { SweepTicketChangesInput, SweepTicketChangesResult } from '../../src/contract/sweep';
import { formatServiceNowDateTime } from '../../src/export/timestamps';
import type { ConnectorMetrics } from '../../src/platform/metrics';
import { ServiceNowClient } from '../../src/servicenow/client';
import { CORRELATION_DISPLAY } from '../../src/servicenow/ticketCreation';
import { testOrder } from '../helpers/provisioning';
import { connectorTicket } from '../helpers/connectorTickets';
import { ManualClock, useSimulator } from '../helpers/simulator';
import { createDevServerEnv } from '../helpers/temporal';

const CONNECTION = 'Sim';
const OVERLAP_MS = 120_000;

/** An id shaped like an order id of `connection` (see orderWorkflowId). */
function orderId(name: string, connection = CONNECTION): string {
  const digest = Buffer.from(name).toString('hex').padEnd(12, '0').slice(0, 12);
  return `${connection}:${name}:added:${digest}`;
}

interface Told {
  readonly orderId: string;
  readonly notice: TicketChangedSignal;
}

describe('isOrderIdOf', () => {
  test("recognises the ids orderWorkflowId gives this connection's orders, short and long, and nothing else", () => {
    const short = orderWorkflowId(testOrder());
    assert.ok(isOrderIdOf(CONNECTION, short));
    const long = orderWorkflowId({
      ...testOrder(),
      connection: 'A-connection-with-a-very-long-identifier-beyond-forty',
      order: { ...testOrder().order, AssignedResourceTypeId: 'x'.repeat(80) },
    });
    assert.ok(long.length <= 100);
    assert.ok(isOrderIdOf('A-connection-with-a-very-long-identifier-beyond-forty', long));
    assert.ok(!isOrderIdOf(CONNECTION, long));
    assert.ok(!isOrderIdOf('Sim2', short));
    for (const foreign of [
      '',
      'INC0010001',
      'Sim',
      'Sim::added:0123456789ab',
      `${short}x`,
      'Sim:a:added:0123456789AB',
    ]) {
      assert.ok(!isOrderIdOf(CONNECTION, foreign), foreign);
    }
  });
});

/** An order id Identity Manager's own client chose (the workflow contract allows any id). */
const IM_CHOSEN_ID = 'im-order-4711';

describe('sweepTicketChanges activity (simulator over HTTP, MockActivityEnvironment)', () => {
  const clock = new ManualClock('2024-05-01T10:00:00Z');
  const fixture = useSimulator({ now: clock.now });
  const client = () =>
    new ServiceNowClient({
      tableApiUrl: fixture.sim.tableApiUrl,
      credentials: { kind: 'basic', ...fixture.sim.credentials },
    });

  /** A sweep harness of its own: orders told, metrics reported and heartbeats of the last attempt. */
  function harness(notify?: (told: Told, count: number) => 'signaled' | 'ended') {
    const told: Told[] = [];
    /** Correlation ids not shaped like ours that the sweep asked Temporal about; IM_CHOSEN_ID runs. */
    const asked: string[] = [];
    const reported: [string, number, number][] = [];
    const metrics: ConnectorMetrics = {
      serviceNowCall: () => undefined,
      budgetWait: () => undefined,
      push: () => undefined,
      orderRecorded: () => undefined,
      sweep: (connection, read, signaled) => reported.push([connection, read, signaled]),
    };
    const notifyOrder: NotifyOrder = (id, notice) => {
      const entry = { orderId: id, notice };
      told.push(entry);
      return Promise.resolve(notify?.(entry, told.length) ?? 'signaled');
    };
    const activities = createSweepActivities({
      serviceNow: client,
      plan: () => undefined,
      metrics,
      notifyOrder,
      isRunningOrder: (workflowId) => {
        asked.push(workflowId);
        return Promise.resolve(workflowId === IM_CHOSEN_ID);
      },
      now: clock.now,
    });
    let heartbeats: unknown[] = [];
    return {
      told,
      asked,
      reported,
      get heartbeats() {
        return heartbeats;
      },
      async run(
        input: Partial<SweepTicketChangesInput>,
        previous?: unknown,
      ): Promise<SweepTicketChangesResult> {
        heartbeats = [];
        const env = new MockActivityEnvironment(
          { attempt: previous === undefined ? 1 : 2, heartbeatTimeoutMs: 30_000, heartbeatDetails: previous },
          // The failed attempt is expected: its warning would only clutter the report.
          { logger: new DefaultLogger('ERROR') },
        );
        env.on('heartbeat', (details: unknown) => heartbeats.push(details));
        return env.run((given: SweepTicketChangesInput) => activities.sweepTicketChanges(given), {
          connection: CONNECTION,
          tables: ['incident'] as const,
          recentlySignaled: [],
          overlapMs: OVERLAP_MS,
          pageSize: 3,
          ...input,
        });
      },
    };
  }

  /** Every test sweeps from its own day: the tickets of the others are before its watermark less the overlap. */
  function nextDay(): string {
    clock.advance(86_400);
    const watermark = formatServiceNowDateTime(clock.now());
    clock.advance(OVERLAP_MS / 1000 + 1);
    return watermark;
  }

  const ticket = (correlationId: string, extra: Record<string, string> = {}) =>
    connectorTicket(fixture, correlationId, extra);

  test('more changed tickets than a page: every order is told once, with its sys_mod_count', async () => {
    const watermark = nextDay();
    const ids = [];
    for (let i = 0; i < 8; i++) {
      ids.push(orderId(`paging-${i}`));
      await ticket(ids.at(-1) ?? '');
      clock.advance(1);
    }
    const sweep = harness();
    const result = await sweep.run({ watermark });
    assert.deepEqual(sweep.told.map((t) => t.orderId).sort(), [...ids].sort());
    assert.ok(sweep.told.every((t) => t.notice.sysModCount === 0 && t.notice.source === 'sweep'));
    assert.deepEqual(result.counts, { calls: 4, rows: 8, signaled: 8, ignored: 0, repeated: 0 });
    assert.equal(result.watermark, formatServiceNowDateTime(clock.now().getTime() - 1000));
    assert.equal(result.recentlySignaled.length, 8);
    assert.deepEqual(sweep.reported, [[CONNECTION, 8, 8]]);
    // A heartbeat after each page, with the position of its last row.
    const positions = sweep.heartbeats
      .map((beat) => (beat as { position?: { sysId: string } }).position?.sysId)
      .filter((position, index, all) => position !== undefined && position !== all[index - 1]);
    assert.equal(positions.length, 3);
  });

  test('the overlap: a ticket changed at the watermark is told, the versions re-read are not told again', async () => {
    const watermark = nextDay();
    const first = await ticket(orderId('overlap-1'));
    const second = await ticket(orderId('overlap-2'));
    const sweep = harness();
    const one = await sweep.run({ watermark });
    assert.equal(one.counts.signaled, 2);
    assert.equal(one.watermark, first.sys_updated_on);
    // Changed in the same second as the new watermark: only `>=` with the overlap sees it.
    await fixture.update('incident', second.sys_id ?? '', { work_notes: 'worked on' });
    const late = await ticket(orderId('overlap-3'));
    assert.equal(late.sys_updated_on, one.watermark);
    const two = await sweep.run({ watermark: one.watermark, recentlySignaled: one.recentlySignaled });
    assert.deepEqual(
      sweep.told
        .slice(2)
        .map((t) => [t.orderId, t.notice.sysModCount])
        .sort(),
      [
        [orderId('overlap-2'), 1],
        [orderId('overlap-3'), 0],
      ],
    );
    assert.deepEqual(two.counts, { calls: 2, rows: 3, signaled: 2, ignored: 0, repeated: 1 });
    // A third sweep re-reads all three inside the overlap and tells nobody.
    const three = await sweep.run({ watermark: two.watermark, recentlySignaled: two.recentlySignaled });
    assert.equal(sweep.told.length, 4);
    assert.deepEqual(three.counts, { calls: 2, rows: 3, signaled: 0, ignored: 0, repeated: 3 });
    // A change well after the watermark: the versions left behind by more than the overlap are forgotten.
    clock.advance(OVERLAP_MS / 1000 + 60);
    await fixture.update('incident', first.sys_id ?? '', { work_notes: 'much later' });
    const four = await sweep.run({ watermark: three.watermark, recentlySignaled: three.recentlySignaled });
    assert.deepEqual(four.counts, { calls: 2, rows: 3, signaled: 1, ignored: 0, repeated: 2 });
    assert.deepEqual(
      four.recentlySignaled.map(([sysId, count]) => [sysId, count]),
      [[first.sys_id, 1]],
    );
  });

  test("only the connector's tickets of this connection's orders are told; ended orders count as ignored", async () => {
    const watermark = nextDay();
    await fixture.create('incident', { short_description: 'untagged', correlation_id: orderId('untagged') });
    await fixture.create('incident', {
      short_description: 'another tool',
      correlation_id: orderId('other-tool'),
      correlation_display: 'another-connector',
    });
    await ticket('INC-typed-by-a-fulfiller');
    await ticket(orderId('other-connection', 'Other'));
    await ticket(orderId('ended'));
    await ticket(orderId('mine'));
    await ticket(IM_CHOSEN_ID);
    await ticket(`ticket-sweep:${CONNECTION}`);
    const sweep = harness((told) => (told.orderId === orderId('ended') ? 'ended' : 'signaled'));
    const result = await sweep.run({ watermark });
    assert.deepEqual(
      sweep.told.map((t) => t.orderId).sort(),
      [IM_CHOSEN_ID, orderId('ended'), orderId('mine')].sort(),
    );
    // Ids not shaped like ours are told only when Temporal says they name a running order; a sweep's never.
    assert.deepEqual(
      sweep.asked.sort(),
      ['INC-typed-by-a-fulfiller', IM_CHOSEN_ID, orderId('other-connection', 'Other')].sort(),
    );
    assert.deepEqual(result.counts, { calls: 3, rows: 6, signaled: 2, ignored: 4, repeated: 0 });
    // The ended order's version is remembered too: the next sweep does not ask again.
    assert.equal(result.recentlySignaled.length, 3);
  });

  test('a sweep that fails after some pages is resumed from its last heartbeat; the watermark waits for the end', async () => {
    const watermark = nextDay();
    const ids = [];
    for (let i = 0; i < 8; i++) {
      ids.push(orderId(`crash-${i}`));
      await ticket(ids.at(-1) ?? '');
      clock.advance(1);
    }
    // Temporal is unreachable while the fifth order is told (the second page's second row).
    const sweep = harness((_told, count) => {
      if (count === 5) throw new Error('Temporal is unavailable');
      return 'signaled';
    });
    await assert.rejects(sweep.run({ watermark }), /Temporal is unavailable/);
    const toldInFirstAttempt = sweep.told.map((t) => t.orderId);
    const lastBeat = sweep.heartbeats.at(-1);
    assert.equal((lastBeat as { counts: { calls: number } }).counts.calls, 1);
    const result = await sweep.run({ watermark }, lastBeat);
    const toldInRetry = sweep.told.slice(toldInFirstAttempt.length).map((t) => t.orderId);
    // The retry starts after the first page: its orders are not told again...
    assert.deepEqual(toldInRetry.sort(), ids.slice(3).sort());
    // ...and nothing is missed.
    assert.deepEqual([...new Set(sweep.told.map((t) => t.orderId))].sort(), [...ids].sort());
    // The calls of both attempts: 1 page before the failure, then pages 2 and 3 and the empty one.
    assert.deepEqual(result.counts, { calls: 4, rows: 8, signaled: 8, ignored: 0, repeated: 0 });
    assert.equal(result.watermark, formatServiceNowDateTime(clock.now().getTime() - 1000));
    const queries = (
      (await (await fixture.admin('/requests?limit=4')).json()) as { result: { url: string }[] }
    ).result
      .map((r) => new URL(r.url, fixture.sim.url).searchParams.get('sysparm_query') ?? '')
      .slice(-3);
    assert.ok(
      queries.every((query) => query.includes('sys_id>')),
      'the retry did not start from the first page',
    );
  });

  test('the first sweep of a connection reads the last day', async () => {
    nextDay();
    clock.advance(86_400 - 60);
    const recent = await ticket(orderId('recent'));
    clock.advance(30);
    const sweep = harness();
    const result = await sweep.run({});
    assert.deepEqual(
      sweep.told.map((t) => t.orderId),
      [orderId('recent')],
    );
    assert.equal(result.watermark, recent.sys_updated_on);
  });
});

describe('sweepTicketChanges tells orders through the worker client (dev server)', () => {
  const fixture = useSimulator();
  let env: TestWorkflowEnvironment | undefined;
  before(async () => {
    env = await createDevServerEnv({ registerSearchAttributes: false });
  });
  after(async () => {
    await env?.teardown();
  });

  test('an order whose workflow does not run (ended) is ignored, not an error', async () => {
    assert.ok(env !== undefined);
    await fixture.create('incident', {
      short_description: 'ticket of an ended order',
      correlation_id: orderId('gone'),
      correlation_display: CORRELATION_DISPLAY,
    });
    const activities = createSweepActivities({
      serviceNow: () =>
        new ServiceNowClient({
          tableApiUrl: fixture.sim.tableApiUrl,
          credentials: { kind: 'basic', ...fixture.sim.credentials },
        }),
      plan: () => undefined,
    });
    const activityEnv = new MockActivityEnvironment({ heartbeatTimeoutMs: 30_000 }, { client: env.client });
    const result: SweepTicketChangesResult = await activityEnv.run(
      (given: SweepTicketChangesInput) => activities.sweepTicketChanges(given),
      {
        connection: CONNECTION,
        tables: ['incident', 'sc_request'] as const,
        recentlySignaled: [],
        overlapMs: OVERLAP_MS,
        pageSize: 10,
      },
    );
    assert.deepEqual(result.counts, { calls: 3, rows: 1, signaled: 0, ignored: 1, repeated: 0 });
  });
});
