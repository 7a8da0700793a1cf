import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startOrder } from '../../src/client/provisioning';
import type { PushSettings } from '../../src/config/schema';
import { statusQuery } from '../../src/contract/messages';
import type { ProvisioningResult } from '../../src/contract/provisioning';
import { TicketNumber } from '../../src/contract/searchAttributes';
import type { ConnectorMetrics } from '../../src/platform/metrics';
import { startPushReceiver, type PushReceiverHandle } from '../../src/push/receiver';
import { signedHeaders } from '../../src/push/signature';
import type { TicketSummary } from '../../src/simulator/instance';
import { tempDir } from '../helpers/files';
import { freePort } from '../helpers/ports';
import {
  provisioningWorker,
  simulatorSettings,
  testOrder,
  type ProvisioningHarness,
} from '../helpers/provisioning';
import { useSimulator } from '../helpers/simulator';
import { createDevServerEnv } from '../helpers/temporal';
import { waitFor } from '../helpers/waitFor';

/**
 * The push receiver end to end: the simulator posts signed notices to it as the business rule would, the
 * receiver signals real provisioning orders on a Temporal dev server, and a real worker runs them against the
 * simulator. Orders check their ticket only once an hour, so an order that ends within the test was ended by push.
 */

const SECRET = 'Push-secret-for-tests-0123456789abcdef';
const PATH = '/servicenow/ticket-changed';
const TASK_QUEUE = 'push-e2e';
const MAX_BODY_BYTES = 2048;

describe('push receiver (simulator push, dev server, worker)', () => {
  let port = 0;
  before(async () => {
    // The simulator is told where to push before the receiver can start: it needs the Temporal server first.
    port = await freePort();
  });
  const snow = useSimulator(() => ({
    notify: { url: `http://127.0.0.1:${port}${PATH}`, secret: SECRET },
  }));
  const dataDir = tempDir();
  const outcomes: string[] = [];
  const metrics: ConnectorMetrics = {
    serviceNowCall: () => undefined,
    budgetWait: () => undefined,
    push: (outcome) => outcomes.push(outcome),
    sweep: () => undefined,
    orderRecorded: () => undefined,
  };
  let env: TestWorkflowEnvironment;
  let harness: ProvisioningHarness;
  let running: Promise<void>;
  let receiver: PushReceiverHandle;

  before(async () => {
    env = await createDevServerEnv();
    harness = await provisioningWorker(
      env,
      simulatorSettings(snow.sim, dataDir, {
        Polling: { FirstCheckAfter: '1h', MaxInterval: '1h', BackoffCoefficient: 2, Jitter: 0 },
      }),
      TASK_QUEUE,
    );
    running = harness.worker.run();
    const settings: PushSettings = {
      Enabled: true,
      Port: port,
      Host: '127.0.0.1',
      Path: PATH,
      Secret: SECRET,
      MaxSkew: 300_000,
      MaxBodyBytes: MAX_BODY_BYTES,
    };
    receiver = await startPushReceiver({ settings, client: env.client, metrics });
  });
  after(async () => {
    await receiver?.close();
    harness?.worker.shutdown();
    await running;
    await harness?.ledger.close();
    await env?.teardown();
  });

  function ticketOf(workflowId: string): Promise<TicketSummary> {
    return waitFor(`the ticket of ${workflowId}`, () =>
      snow.sim.instance
        .tickets(['incident', 'sc_request'], 'all')
        .find((t) => t.correlation_id === workflowId),
    );
  }

  /** Every notice the simulator sent so far has been answered (and any signal it caused sent). */
  function noticesSettled(): Promise<true> {
    return waitFor('the simulator to deliver its notices', () =>
      snow.sim.instance.notificationStats()?.pending === 0 ? true : undefined,
    );
  }

  /** An order waiting on its open ticket, with the simulator's notices about it all delivered. */
  async function waitingOrder(): Promise<{ workflowId: string; ticket: TicketSummary }> {
    const { workflowId } = await startOrder(env.client, testOrder(), { taskQueue: TASK_QUEUE });
    const ticket = await ticketOf(workflowId);
    await waitFor(`${workflowId} to wait`, async () => {
      const status = await env.client.workflow.getHandle(workflowId).query(statusQuery);
      return status.phase === 'waiting' ? true : undefined;
    });
    await noticesSettled();
    return { workflowId, ticket };
  }

  async function ticketChangedSignals(workflowId: string): Promise<number> {
    const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
    return (history.events ?? []).filter(
      (event) => event.workflowExecutionSignaledEventAttributes?.signalName === 'ticketChanged',
    ).length;
  }

  function noticeOf(ticket: TicketSummary, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      table: ticket.table,
      sys_id: ticket.sys_id,
      number: ticket.number,
      sys_mod_count: ticket.sys_mod_count,
      correlation_id: ticket.correlation_id,
      ...extra,
    };
  }

  interface Sent {
    readonly body?: string;
    readonly headers?: Record<string, string>;
    /** Signed with this secret at this time unless `headers` are given; the real ones by default. */
    readonly secret?: string;
    readonly signedAt?: Date;
    readonly contentType?: string;
  }

  async function send(sent: Sent): Promise<{ status: number; json: Record<string, unknown> }> {
    const body = sent.body ?? '{}';
    const response = await fetch(receiver.url, {
      method: 'POST',
      headers: {
        'content-type': sent.contentType ?? 'application/json',
        ...(sent.headers ?? signedHeaders(sent.secret ?? SECRET, body, sent.signedAt ?? new Date())),
      },
      body,
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  }

  test('a ticket closed in ServiceNow ends its order through push, long before the next poll', async () => {
    const { workflowId, ticket } = await waitingOrder();
    const signalsBefore = await ticketChangedSignals(workflowId);
    const closed = await snow.admin(`/tickets/${ticket.number}/close`, { method: 'POST', body: {} });
    assert.equal(closed.status, 200);
    const handle = env.client.workflow.getHandle<(input: unknown) => Promise<ProvisioningResult>>(workflowId);
    const result = await waitFor(`${workflowId} to end`, async () =>
      (await handle.describe()).status.name === 'RUNNING' ? undefined : handle.result(),
    );
    assert.equal(result.provisioningState, 'Executed');
    assert.equal(result.resolution, 'ticket-closed');
    assert.ok((await ticketChangedSignals(workflowId)) > signalsBefore, 'the close was pushed');
    assert.ok(outcomes.includes('signaled'));

    // The order has ended: the same ticket's next notice is ignored, not an error.
    const late = await send({ body: JSON.stringify(noticeOf(ticket, { sys_mod_count: '99' })) });
    assert.deepEqual(late, {
      status: 200,
      json: { result: 'ignored', reason: 'the order has already ended' },
    });
  });

  test('refused requests change nothing: each its status and reason, and no signal', async () => {
    const { workflowId, ticket } = await waitingOrder();
    const signalsBefore = await ticketChangedSignals(workflowId);
    const body = JSON.stringify(noticeOf(ticket, { sys_mod_count: '50' }));
    const now = Date.now();
    const refusals: [string, Sent, number, RegExp, string][] = [
      ['bad signature', { body, secret: `${SECRET}-other` }, 401, /^bad signature/, 'bad-signature'],
      ['missing headers', { body, headers: {} }, 401, /^unsigned/, 'unsigned'],
      ['stale timestamp', { body, signedAt: new Date(now - 360_000) }, 401, /^stale/, 'stale'],
      ['future timestamp', { body, signedAt: new Date(now + 360_000) }, 401, /^future/, 'future'],
      [
        'oversized body',
        { body: JSON.stringify(noticeOf(ticket, { description: 'x'.repeat(MAX_BODY_BYTES) })) },
        413,
        /^too large: the body may be at most 2048 bytes/,
        'too-large',
      ],
      [
        'malformed fields',
        {
          body: JSON.stringify(noticeOf(ticket, { sys_id: ticket.sys_id.toUpperCase(), table: 'sys_user' })),
        },
        400,
        /^malformed: table: must be one of incident, sc_request; sys_id: must be 32 lowercase hex characters$/,
        'malformed',
      ],
      [
        'malformed JSON',
        { body: '{"table": "incident",' },
        400,
        /^malformed: the body is not valid JSON$/,
        'malformed',
      ],
      ['not JSON', { body, contentType: 'text/plain' }, 415, /^not JSON/, 'not-json'],
    ];
    for (const [name, sent, status, error, outcome] of refusals) {
      const before = outcomes.length;
      const answer = await send(sent);
      assert.equal(answer.status, status, name);
      assert.match(String(answer.json.error), error, name);
      assert.ok(!JSON.stringify(answer.json).includes(SECRET), `${name}: the secret is never echoed`);
      assert.deepEqual(outcomes.slice(before), [outcome], name);
    }
    assert.equal(await ticketChangedSignals(workflowId), signalsBefore, 'no refused request signaled');
    const status = await env.client.workflow.getHandle(workflowId).query(statusQuery);
    assert.equal(status.phase, 'waiting');
  });

  test('a replay of an identical request inside the window is refused; the first one signaled', async () => {
    const { workflowId, ticket } = await waitingOrder();
    const signalsBefore = await ticketChangedSignals(workflowId);
    const body = JSON.stringify(noticeOf(ticket, { sys_mod_count: '60' }));
    const headers = signedHeaders(SECRET, body, new Date());
    const first = await send({ body, headers });
    assert.deepEqual(first, { status: 202, json: { result: 'signaled', order: workflowId } });
    const replay = await send({ body, headers });
    assert.equal(replay.status, 409);
    assert.match(String(replay.json.error), /^replayed/);
    assert.equal(await ticketChangedSignals(workflowId), signalsBefore + 1, 'only the first one signaled');
    assert.equal(outcomes.at(-1), 'replayed');
  });

  test('without a correlation id the order is found by its TicketNumber; an unknown number is ignored', async () => {
    const { workflowId, ticket } = await waitingOrder();
    await waitFor(`${workflowId} to show its ticket number`, async () => {
      const description = await env.client.workflow.getHandle(workflowId).describe();
      return description.typedSearchAttributes.get(TicketNumber) === ticket.number ? true : undefined;
    });
    const signalsBefore = await ticketChangedSignals(workflowId);
    // A full record, as a business rule posting `current` would: the other fields are ignored.
    const byNumber = await send({
      body: JSON.stringify({
        ...noticeOf(ticket, { sys_mod_count: '70', correlation_id: '' }),
        short_description: 'ignored',
        state: '2',
      }),
    });
    // Visibility may lag behind describe() a little: send the notice again (a newer one, so no replay).
    let modCount = 70;
    const found =
      byNumber.status === 202
        ? byNumber
        : await waitFor('the order to be found by its ticket number', async () => {
            modCount += 1;
            const answer = await send({
              body: JSON.stringify(noticeOf(ticket, { sys_mod_count: String(modCount), correlation_id: '' })),
            });
            return answer.status === 202 ? answer : undefined;
          });
    assert.deepEqual(found, { status: 202, json: { result: 'signaled', order: workflowId } });
    assert.equal(await ticketChangedSignals(workflowId), signalsBefore + 1);

    const unknown = await send({
      body: JSON.stringify({ ...noticeOf(ticket), number: 'INC9999999', correlation_id: '' }),
    });
    assert.deepEqual(unknown, {
      status: 200,
      json: { result: 'ignored', reason: 'no open order has this ticket number' },
    });
    const stranger = await send({
      body: JSON.stringify(noticeOf(ticket, { correlation_id: 'Sim:0:added:none' })),
    });
    assert.deepEqual(stranger, {
      status: 200,
      json: { result: 'ignored', reason: 'no order has this correlation id' },
    });
    assert.equal(
      await ticketChangedSignals(workflowId),
      signalsBefore + 1,
      'the ignored notices signaled nothing',
    );
  });
});
