/**
 * The checkTicket activity reads at the priority its trigger calls for: a scheduled check (the safety poll) at
 * background, a check after a notice, without a trigger or with one it does not know at normal. Real clients
 * against the simulator over HTTP, run in Temporal's activity harness.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { openLedger } from '../../src/assignments/sqliteLedger';
import { parseSettings } from '../../src/config/load';
import type { CheckTicketRequest } from '../../src/contract/provisioningActivities';
import type { TicketRef, TicketStatus } from '../../src/contract/provisioning';
import { connectorActivities } from '../../src/platform/adapters';
import type { CallPriority } from '../../src/servicenow/budget';
import { ServiceNowClient, type ServiceNowClientOptions } from '../../src/servicenow/client';
import { tempDir } from '../helpers/files';
import { useSimulator } from '../helpers/simulator';

const CONNECTION = 'Sim';
const ORDER_ID = 'Sim:check-priority:added:0123456789ab';

const settings = parseSettings(
  {
    Connections: {
      [CONNECTION]: { Server: 'https://a.service-now.com/api/now/table', Login: 'a', Password: 'b' },
    },
  },
  'test settings',
);

/** A client that notes the priority of every view taken of it: the priority its calls queue at. */
class PriorityRecordingClient extends ServiceNowClient {
  readonly priorities: CallPriority[] = [];

  override withPriority(priority: CallPriority, options?: { waitOutRateLimits?: boolean }): ServiceNowClient {
    this.priorities.push(priority);
    return super.withPriority(priority, options);
  }
}

describe('checkTicket: the priority follows the trigger (simulator over HTTP, MockActivityEnvironment)', () => {
  const simulator = useSimulator();
  const ledger = openLedger(path.join(tempDir('check-priority-'), 'ledger.sqlite'));
  after(() => ledger.close());
  let ticket: TicketRef;

  const clientOptions = (extra: Partial<ServiceNowClientOptions> = {}): ServiceNowClientOptions => ({
    tableApiUrl: simulator.sim.tableApiUrl,
    credentials: { kind: 'basic', ...simulator.sim.credentials },
    connection: CONNECTION,
    ...extra,
  });

  function activitiesWith(client: ServiceNowClient) {
    return connectorActivities({ settings, version: 'test', assignments: ledger, serviceNow: () => client });
  }

  function check(
    activities: ReturnType<typeof activitiesWith>,
    trigger: unknown,
    env = new MockActivityEnvironment(),
  ) {
    const request = { connection: CONNECTION, ticket, orderId: ORDER_ID, trigger } as CheckTicketRequest;
    return env.run<[CheckTicketRequest], TicketStatus, typeof activities.checkTicket>(
      (input) => activities.checkTicket(input),
      request,
    );
  }

  before(async () => {
    const created = await simulator.create('incident', {
      short_description: 'Grant access',
      correlation_id: ORDER_ID,
    });
    ticket = { table: 'incident', sysId: created.sys_id ?? '', number: created.number ?? '' };
  });

  test('a scheduled check reads at background; a notice, none or an unknown trigger at normal', async () => {
    const client = new PriorityRecordingClient(clientOptions());
    const activities = activitiesWith(client);
    // Untrusted values from workflow history: none of them may raise a check above normal.
    const cases: [unknown, CallPriority][] = [
      ['schedule', 'background'],
      ['notice', 'normal'],
      [undefined, 'normal'],
      ['urgent', 'normal'],
      ['constructor', 'normal'],
      ['Schedule', 'normal'],
      [{ toString: () => 'schedule' }, 'normal'],
      [1, 'normal'],
    ];
    for (const [trigger, expected] of cases) {
      client.priorities.length = 0;
      const status = await check(activities, trigger);
      assert.equal(status.found, true, `trigger ${String(trigger)}: the ticket is read`);
      assert.equal(status.stateLabel, 'New');
      assert.deepEqual(client.priorities, [expected], `trigger ${String(trigger)}`);
    }
  });

  test('with the budget down to its background reserve, a scheduled check waits while a notice check goes', async () => {
    // Two calls an hour: the reserve (10%) leaves background calls 1.2 tokens to need; one call leaves 1.
    const activities = activitiesWith(
      new ServiceNowClient(clientOptions({ budget: { callsPerSecond: 100, callsPerHour: 2 } })),
    );
    assert.equal((await check(activities, 'notice')).found, true);

    const pollEnv = new MockActivityEnvironment();
    const noticeEnv = new MockActivityEnvironment();
    const poll = check(activities, 'schedule', pollEnv);
    const notice = check(activities, 'notice', noticeEnv);
    const settled = (promise: Promise<unknown>, name: string) =>
      promise.then(
        () => name,
        () => `${name} failed`,
      );
    try {
      const first = await Promise.race([settled(poll, 'safety poll'), settled(notice, 'notice check')]);
      assert.equal(first, 'notice check', 'the notice check takes the last token before the reserve');
    } finally {
      // The one left waiting for the budget (the safety poll) ends when its activity is canceled.
      pollEnv.cancel();
      noticeEnv.cancel();
    }
    assert.equal((await notice).found, true);
    // It never reached ServiceNow: it was still waiting when its activity was canceled.
    await assert.rejects(poll, /the request was canceled/);
  });
});
