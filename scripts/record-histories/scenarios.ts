import type { WorkflowHandle } from '@temporalio/client';
import { ADMIN_USER_SYS_ID, type SimulatorHandle } from '../../src/simulator/server';
import type { CloseOutcome, TicketAction } from '../../src/simulator/ticketActions';
import type { provisioningWorkflow, ticketSweepWorkflow } from '../../src/workflows';
import { SWEEPS_PER_RUN } from '../../src/workflows/sweep/workflow';
import { cancelUpdate, statusQuery, ticketChangedSignal } from '../../src/contract/messages';
import type { ProvisioningResult, TicketRef } from '../../src/contract/provisioning';
import { sweepStatusQuery, type SweepCounts, type TicketSweepStatus } from '../../src/contract/sweep';
import { CONNECTION, RESOURCE_TYPES } from '../harness/simulatorSettings';
import { waitFor } from '../harness/waitFor';
import type { ScenarioKinds } from './manifest';

/**
 * The scenarios whose histories are committed under test/histories/release-<n>/: what happens to each order
 * once it has started. Adding one to a release records it with `--add`; the recorded ones never change.
 */

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

type Handle = WorkflowHandle<typeof provisioningWorkflow>;

/** What a scenario is given once its order has started and has its ticket. */
export interface ScenarioContext {
  readonly sim: SimulatorHandle;
  readonly handle: Handle;
  readonly ticket: TicketRef;
  /** Skips server time, and keeps the simulator's clock with it so that ticket dates match the history. */
  readonly sleep: (ms: number) => Promise<void>;
  readonly act: (
    number: string,
    action: TicketAction,
    options?: { outcome?: CloseOutcome; notes?: string },
  ) => void;
  /** Replaces the worker by one running the current workflow code (scenarios with `startedBy`). */
  readonly upgrade: () => Promise<void>;
}

interface ScenarioBase {
  readonly name: string;
  /** The release whose workflow code recorded it: its files live in test/histories/release-<n>/. */
  readonly release: number;
  readonly description: string;
  /** The order's assignment id: fixed, so that a scenario's workflow id is the same in every recording. */
  readonly assignmentId: string;
  /** Merged into the test order (an Added incident). */
  readonly order?: Record<string, unknown>;
  /** Merged into the test settings' TicketConnector section. */
  readonly settings?: Record<string, unknown>;
  /**
   * The dev server instead of the time-skipping one, for scenarios the latter cannot run (it refuses to cancel
   * an activity that has not started yet).
   */
  readonly devServer?: true;
  /**
   * A commit whose workflow code starts the order, as workers of an older release would; the scenario calls
   * `upgrade()` to hand it to the current code, as a rollout does.
   */
  readonly startedBy?: string;
}

/** Most scenarios act once the order has its ticket; some end the order before it can have one. */
export type TicketScenario = ScenarioBase & { readonly kind?: 'ticket' } & (
    | { readonly beforeTicket?: false; run(context: ScenarioContext): Promise<void> }
    | { readonly beforeTicket: true; run(context: Omit<ScenarioContext, 'ticket'>): Promise<void> }
  );

/** The resource type whose orders carry a password (Changes.InitialPassword, user in Resource.Login). */
export const PASSWORD_RESOURCE_TYPE = 'App_Account';

/**
 * What a password scenario is given: the simulator, and the connector's own ways onto the password task queue
 * (resetPassword through a client that always encrypts, startOrder with the password routing).
 */
export interface PasswordScenarioContext {
  readonly sim: SimulatorHandle;
  /** Creates the ServiceNow user (sys_user) whose password the scenario sets. */
  readonly createUser: (userName: string) => Promise<void>;
  /** A password reset with `resetPassword`, waited for: its workflow id, and the refusal's type when refused. */
  readonly resetPassword: (
    input: Record<string, unknown>,
    requestId: string,
  ) => Promise<{ workflowId: string; refusal?: string }>;
  /** An order started with the password routing (merged into an order of PASSWORD_RESOURCE_TYPE), waited for. */
  readonly startOrder: (
    order: Record<string, unknown>,
  ) => Promise<{ workflowId: string; result: ProvisioningResult }>;
}

/**
 * A scenario on the password task queue, with a payload key generated for the recording and never kept: its
 * history is opened before it is written, and each of `passwords` replaced by a marker (README in the release
 * folder). `run` returns the workflow id to record.
 */
export interface PasswordScenario extends Pick<ScenarioBase, 'name' | 'release' | 'description'> {
  readonly kind: 'password';
  /** The dummy passwords the scenario sends (at least 6 characters, so that the leak check is reliable). */
  readonly passwords: readonly string[];
  run(context: PasswordScenarioContext): Promise<string>;
}

/**
 * What the sweep scenario is given: a connector worker whose settings include the scenario's, on a time-skipping
 * server, and the ways the connector starts an order and the connection's sweep.
 */
export interface SweepScenarioContext {
  readonly sim: SimulatorHandle;
  /** An order started as Identity Manager starts it, once it has its ticket (waited for in real time). */
  readonly startOrder: (assignmentId: string) => Promise<{ handle: Handle; ticket: TicketRef }>;
  /** The connection's sweep, started as every worker process starts it (ensureTicketSweeps). */
  readonly startSweep: () => Promise<WorkflowHandle<typeof ticketSweepWorkflow>>;
  /** As ScenarioContext's: skips server time, the simulator's clock kept with it. */
  readonly sleep: (ms: number) => Promise<void>;
}

/**
 * The ticket sweep of the test connection (`ticketSweepWorkflow`): it never ends by itself, so `run` drives it
 * through the sweeps it means to record and stops it; every run of its workflow id is recorded.
 */
export interface SweepScenario extends Pick<ScenarioBase, 'name' | 'release' | 'description' | 'settings'> {
  readonly kind: 'sweep';
  run(context: SweepScenarioContext): Promise<void>;
}

export type Scenario = TicketScenario | PasswordScenario | SweepScenario;

/** Fails the recording when a scenario did not go as its description says. */
function expectOutcome(what: string, actual: unknown, expected: unknown): void {
  if (actual !== expected) {
    throw new Error(`${what}: expected ${String(expected)}, got ${String(actual)}; nothing was written`);
  }
}

/** Characters that every encoding writes differently (quote, ampersand, slash, plus, non-ASCII): dummies only. */
const RESET_PASSWORD = 'Recorded-"Pa55"&word/+é';
const ORDER_PASSWORD = 'Order-"Initial"&Pa55/+é';
/** No digit: the simulator's policy rejects it. */
const WEAK_PASSWORD = 'letters-only-"recorded"&é';

/** Scenario bodies recorded by more than one release: the same story, told by each release's code. */
type ScenarioStory = Pick<ScenarioBase, 'assignmentId' | 'settings'> & {
  run(context: ScenarioContext): Promise<void>;
};

const closedAfterThreeDays: ScenarioStory = {
  assignmentId: 'audit-closed',
  settings: { Polling: { FirstCheckAfter: '1m', MaxInterval: '12h', BackoffCoefficient: 2, Jitter: 0.1 } },
  async run({ handle, ticket, sleep, act }) {
    await sleep(3 * DAY);
    act(ticket.number, 'close', { notes: 'Access granted in the app' });
    await handle.signal(ticketChangedSignal, { source: 'servicenow-push' });
    await handle.result();
  },
};

const openForSixteenHours: ScenarioStory = {
  assignmentId: 'audit-can',
  settings: { Polling: { FirstCheckAfter: '1m', MaxInterval: '10m', BackoffCoefficient: 2, Jitter: 0.1 } },
  async run({ handle, ticket, sleep, act }) {
    await sleep(16 * HOUR);
    act(ticket.number, 'close', { notes: 'Done after a long wait' });
    await handle.result();
  },
};

const revokedAfterFiveHours: ScenarioStory = {
  assignmentId: 'audit-revoked',
  async run({ handle, sleep }) {
    await sleep(5 * HOUR);
    await handle.executeUpdate(cancelUpdate, {
      args: [{ reason: 'access request withdrawn by the manager', requestedBy: 'jsmith' }],
    });
    await handle.result();
  },
};

const canceledInTemporal: ScenarioStory = {
  assignmentId: 'audit-wf-canceled',
  async run({ handle, sleep }) {
    await sleep(2 * HOUR);
    await handle.cancel();
    await handle.result().catch(() => undefined);
  },
};

const ticketScenarios: readonly TicketScenario[] = [
  {
    name: 'closed',
    release: 1,
    description:
      'Added incident, checked for three days, closed by a fulfiller, noticed through a ticketChanged signal: Executed.',
    ...closedAfterThreeDays,
  },
  {
    name: 'canceled-in-servicenow',
    release: 1,
    description:
      'Catalog request; ServiceNow fails every call for two hours (failed checks), then a fulfiller cancels the ticket: Errored.',
    assignmentId: 'audit-canceled',
    order: { ResourceType: { Id: 8, Identifier: RESOURCE_TYPES.catalog } },
    settings: { Polling: { FirstCheckAfter: '1m', MaxInterval: '6h', BackoffCoefficient: 2, Jitter: 0.1 } },
    async run({ sim, handle, ticket, sleep, act }) {
      sim.instance.faults.update({ errorRate: 1 });
      try {
        await sleep(2 * HOUR);
      } finally {
        sim.instance.faults.update({ errorRate: 0 });
      }
      await sleep(DAY);
      act(ticket.number, 'cancel', { notes: 'Not approved by the application owner' });
      await handle.result();
    },
  },
  {
    name: 'revoked',
    release: 1,
    description:
      'Revoked before fulfilment with the cancel update (reason and requestedBy): ticket canceled, Errored.',
    ...revokedAfterFiveHours,
  },
  {
    name: 'continued-as-new',
    release: 1,
    description:
      'Checks every 10 minutes for 16 hours: the workflow continues as new when a run passes 500 events, then the ticket is closed: Executed.',
    ...openForSixteenHours,
  },
  {
    name: 'workflow-canceled',
    release: 1,
    description:
      'The workflow is canceled in Temporal (Web UI or handle.cancel()): the ticket is canceled, the assignment Errored.',
    ...canceledInTemporal,
  },
  {
    name: 'reminders',
    release: 1,
    description:
      'Reminders after one day and then every day while the ticket stays open for three and a half days; closed: Executed.',
    assignmentId: 'audit-reminders',
    settings: {
      Polling: { FirstCheckAfter: '1m', MaxInterval: '12h', BackoffCoefficient: 2, Jitter: 0.1 },
      Reminders: { FirstAfter: '1d', Every: '1d' },
    },
    async run({ handle, ticket, sleep, act }) {
      await sleep(3.5 * DAY);
      act(ticket.number, 'close', { notes: 'Granted' });
      await handle.result();
    },
  },
  {
    name: 'closed',
    release: 2,
    description:
      'As in release 1 (closed after three days, noticed through ticketChanged): with the order-limits and records-in-order markers and the ticket content planned once.',
    ...closedAfterThreeDays,
  },
  {
    name: 'continued-as-new',
    release: 2,
    description:
      'Checks every 10 minutes for 16 hours across runs; the carried state names its workflow chain; closed: Executed.',
    ...openForSixteenHours,
  },
  {
    name: 'missing-ticket',
    release: 2,
    description: 'The ticket is deleted in ServiceNow: three reads miss it, then Errored (ticket-missing).',
    assignmentId: 'audit-missing',
    async run({ sim, handle, ticket, sleep }) {
      await sleep(HOUR);
      await tableCall(sim, 'DELETE', `${ticket.table}/${ticket.sysId}`);
      await handle.result();
    },
  },
  {
    name: 'foreign-ticket',
    release: 2,
    description:
      "The ticket's correlation id is changed to another order's: it is no longer judged, and the order ends Errored (ticket-missing).",
    assignmentId: 'audit-foreign',
    async run({ sim, handle, ticket, sleep }) {
      await sleep(HOUR);
      await tableCall(sim, 'PATCH', `${ticket.table}/${ticket.sysId}`, { correlation_id: 'another-order' });
      await handle.result();
    },
  },
  {
    name: 'refused-cancel',
    release: 2,
    description:
      "Revoked while ServiceNow refuses the cancellation (the connector's write role removed): Errored, the reason says the ticket is left open.",
    assignmentId: 'audit-refused-cancel',
    async run({ sim, handle, sleep }) {
      await sleep(HOUR);
      const grants = (await tableCall(
        sim,
        'GET',
        `sys_user_has_role?sysparm_query=user=${ADMIN_USER_SYS_ID}&sysparm_fields=sys_id`,
      )) as { result: { sys_id: string }[] };
      for (const grant of grants.result) await tableCall(sim, 'DELETE', `sys_user_has_role/${grant.sys_id}`);
      await handle.executeUpdate(cancelUpdate, {
        args: [{ reason: 'request withdrawn', requestedBy: 'ops' }],
      });
      await handle.result();
    },
  },
  {
    name: 'cancel-before-plan',
    release: 2,
    description:
      'Canceled in Temporal as soon as it starts, before its ticket is planned: every ticket table is searched, none found, Errored.',
    assignmentId: 'audit-cancel-before-plan',
    beforeTicket: true,
    devServer: true,
    async run({ handle }) {
      await handle.cancel();
      await handle.result().catch(() => undefined);
    },
  },
  {
    name: 'failed-plan',
    release: 2,
    description:
      'A template error fails the order before any ticket: Errored is recorded with the reason, then the workflow fails.',
    assignmentId: 'audit-failed-plan',
    settings: {
      ResourceTypeMappings: {
        [RESOURCE_TYPES.incident]: {
          Connection: 'Sim',
          CallerId: 'admin',
          TitleTemplate: '{{#ifCond ChangeType "~=" "Added"}}x{{/ifCond}}',
          DescriptionTemplate: 'd',
        },
      },
    },
    beforeTicket: true,
    async run({ handle }) {
      await handle.result().catch(() => undefined);
    },
  },
  {
    name: 'upgraded-mid-order',
    release: 2,
    description:
      "Opened by the first release's workflow code (commit 20051cc), handed to this release's workers while waiting, then closed: the new paths (records in order) switch on mid-run; Executed.",
    assignmentId: 'audit-upgraded',
    startedBy: '20051cc',
    // The time-skipping server never hands a task left on a stopped worker's sticky queue to another worker.
    devServer: true,
    settings: { Polling: { FirstCheckAfter: '2s', MaxInterval: '5s', BackoffCoefficient: 2, Jitter: 0.1 } },
    async run({ handle, ticket, sleep, act, upgrade }) {
      await sleep(8_000);
      await upgrade();
      await sleep(8_000);
      act(ticket.number, 'close', { notes: 'Granted after the upgrade' });
      await handle.result();
    },
  },
  {
    name: 'revoked',
    release: 2,
    description:
      "Revoked with the cancel update: the ticket, checked to be the order's, is canceled; Errored.",
    ...revokedAfterFiveHours,
  },
  {
    name: 'workflow-canceled',
    release: 2,
    description:
      'Canceled in Temporal: the ticket is canceled and Errored recorded in a scope that cannot be canceled midway.',
    ...canceledInTemporal,
  },
  {
    name: 'closed',
    release: 3,
    description:
      'As in release 2 (closed after three days, noticed through ticketChanged): with the dot-segment-ids marker, ids of "." or ".." being refused on arrival.',
    ...closedAfterThreeDays,
  },
  {
    name: 'closed-password-orders',
    release: 3,
    description:
      'As closed, recorded with the password-orders marker: a new run on the ticket queue checks that it is not a password task queue and opens its ticket (orders that carry a password set it on the password queue instead).',
    ...closedAfterThreeDays,
    assignmentId: 'audit-closed-password-orders',
  },
  {
    name: 'closed-after-notice',
    release: 4,
    description:
      'Checked on its schedule for an hour (trigger schedule), then worked and pushed: ticketChanged makes a check at once (trigger notice) that finds it In Progress; closed, found by the next scheduled check: Executed. With the check-triggers marker.',
    assignmentId: 'audit-closed-after-notice',
    settings: { Polling: { FirstCheckAfter: '1m', MaxInterval: '12h', BackoffCoefficient: 2, Jitter: 0.1 } },
    async run({ sim, handle, ticket, sleep, act }) {
      await sleep(HOUR);
      act(ticket.number, 'work', { notes: 'Working on the access' });
      const sysModCount = Number(sim.instance.ticket(ticket.number)?.record.sys_mod_count);
      await handle.signal(ticketChangedSignal, { sysModCount, source: 'push' });
      // In real time: the notice's check must read the worked ticket before it is closed.
      await waitFor('the check the notice asked for', async () =>
        (await handle.query(statusQuery)).ticketState === 'In Progress' ? true : undefined,
      );
      act(ticket.number, 'close', { notes: 'Access granted in the app' });
      const result = await handle.result();
      if (result.provisioningState !== 'Executed') {
        throw new Error(`closed-after-notice ended ${result.provisioningState}; nothing was written`);
      }
    },
  },
];

const passwordScenarios: readonly PasswordScenario[] = [
  {
    name: 'password-reset',
    release: 3,
    kind: 'password',
    description:
      'passwordResetWorkflow on the password queue: resetPassword by user_name, ServiceNow takes the password and password_needs_reset; the result names the user. The password is withheld from the opened payloads.',
    passwords: [RESET_PASSWORD],
    async run({ createUser, resetPassword }) {
      await createUser('rec.alice');
      const reset = await resetPassword(
        { connection: CONNECTION, user: { userName: 'rec.alice' }, password: RESET_PASSWORD },
        'recorded-1',
      );
      expectOutcome('password-reset', reset.refusal, undefined);
      return reset.workflowId;
    },
  },
  {
    name: 'password-reset-rejected',
    release: 3,
    kind: 'password',
    description:
      "passwordResetWorkflow whose password the instance's policy rejects (no digit): the workflow fails, non-retryable PasswordRejected naming the policy, never the password.",
    passwords: [WEAK_PASSWORD],
    async run({ createUser, resetPassword }) {
      await createUser('rec.bob');
      const reset = await resetPassword(
        { connection: CONNECTION, user: { userName: 'rec.bob' }, password: WEAK_PASSWORD },
        'recorded-rejected-1',
      );
      expectOutcome('password-reset-rejected', reset.refusal, 'PasswordRejected');
      return reset.workflowId;
    },
  },
  {
    name: 'password-order',
    release: 3,
    kind: 'password',
    description:
      'An order that carries a password (Changes.InitialPassword), routed to the password queue: resetOrderPassword sets it instead of opening a ticket, Executed (password-set).',
    passwords: [ORDER_PASSWORD],
    async run({ createUser, startOrder }) {
      await createUser('rec.carol');
      const { workflowId, result } = await startOrder({
        AssignedResourceTypeId: 'audit-password-order',
        Changes: { InitialPassword: ORDER_PASSWORD },
        Resource: { Login: 'rec.carol' },
      });
      expectOutcome('password-order', result.resolution, 'password-set');
      expectOutcome('password-order', result.provisioningState, 'Executed');
      return workflowId;
    },
  },
  {
    name: 'password-order-unknown-user',
    release: 3,
    kind: 'password',
    description:
      'An order that carries a password for a user ServiceNow does not have: resetOrderPassword refuses (unknown user), Errored (password-refused) with the reason, no ticket.',
    passwords: [ORDER_PASSWORD],
    async run({ startOrder }) {
      const { workflowId, result } = await startOrder({
        AssignedResourceTypeId: 'audit-password-order-unknown',
        Changes: { InitialPassword: ORDER_PASSWORD },
        Resource: { Login: 'rec.nobody' },
      });
      expectOutcome('password-order-unknown-user', result.resolution, 'password-refused');
      expectOutcome('password-order-unknown-user', result.provisioningState, 'Errored');
      return workflowId;
    },
  },
];

const MINUTE = 60 * 1000;

/** Fails the recording when the sweep's last sweep did not count what the scenario expects of it. */
function expectSweep(what: string, status: TicketSweepStatus, expected: Partial<SweepCounts>): void {
  const { counts, error } = status.lastSweep ?? {};
  if (error !== undefined) throw new Error(`${what} failed (${error}); nothing was written`);
  for (const [field, value] of Object.entries(expected)) {
    expectOutcome(`${what}: ${field}`, counts?.[field as keyof SweepCounts], value);
  }
}

const sweepScenarios: readonly SweepScenario[] = [
  {
    name: 'ticket-sweep',
    release: 4,
    kind: 'sweep',
    description:
      'The sweep of the connection, every minute, with an order whose own poll waits an hour: the first sweep reads the last day and tells the order of its new ticket; the next finds nothing changed (the ticket read again in the overlap, not told again); worked, then closed in ServiceNow, the ticket is told by the next sweeps and the order ends Executed within minutes; after 60 sweeps the sweep continues as new with its watermark, sweeps once more and is terminated (it never ends by itself).',
    settings: {
      Polling: { FirstCheckAfter: '1h', MaxInterval: '1d', BackoffCoefficient: 2, Jitter: 0.1 },
      Sweep: { Interval: '1m', Overlap: '2m' },
    },
    async run({ sim, startOrder, startSweep, sleep }) {
      const { handle, ticket } = await startOrder('audit-ticket-sweep');
      const sweep = await startSweep();
      const { runId } = await sweep.describe();
      // Server time moves half an interval at a time: never past a sweep without seeing its status.
      const sweptTo = async (count: number): Promise<TicketSweepStatus> => {
        for (let step = 0; step <= 2 * count + 10; step++) {
          const status = await sweep.query(sweepStatusQuery);
          if (status.sweeps >= count) return status;
          await sleep(MINUTE / 2);
        }
        throw new Error(`ticket-sweep: sweep ${count} did not come; nothing was written`);
      };
      expectSweep('the first sweep', await sweptTo(1), { signaled: 1, repeated: 0 });
      expectSweep('a sweep with nothing changed', await sweptTo(2), { signaled: 0, repeated: 1 });
      sim.instance.actOnTicket(ticket.number, { action: 'work', notes: 'Working on the access' });
      expectSweep('the sweep after the ticket was worked', await sweptTo(3), { signaled: 1 });
      // In real time: the order's check of the notice reads the worked ticket before it is closed.
      await waitFor('the check the sweep asked for', async () =>
        (await handle.query(statusQuery)).ticketState === 'In Progress' ? true : undefined,
      );
      sim.instance.actOnTicket(ticket.number, { action: 'close', notes: 'Access granted in the app' });
      expectSweep('the sweep after the ticket was closed', await sweptTo(4), { signaled: 1 });
      // Still in real time: the order's own first check is an hour away, so only the sweep's notice ends it.
      const ended = await waitFor('the order to end', async () => {
        const { status } = await handle.describe();
        return status.name === 'RUNNING' ? undefined : status.name;
      });
      expectOutcome('the order', ended, 'COMPLETED');
      expectOutcome('the order', (await handle.result()).provisioningState, 'Executed');
      await sweptTo(SWEEPS_PER_RUN + 1);
      if ((await sweep.describe()).runId === runId) {
        throw new Error(
          `ticket-sweep did not continue as new after ${SWEEPS_PER_RUN} sweeps; nothing was written`,
        );
      }
      await sweep.terminate('recorded: a sweep runs until it is stopped');
    },
  },
];

export const scenarios: readonly Scenario[] = [...ticketScenarios, ...passwordScenarios, ...sweepScenarios];

/** The names of a release's password and sweep scenarios, which its README explains in paragraphs of their own. */
export function scenarioKinds(release: number): ScenarioKinds {
  const ofKind = (kind: 'password' | 'sweep') =>
    scenarios
      .filter((scenario) => scenario.release === release && scenario.kind === kind)
      .map((scenario) => scenario.name);
  return { password: ofKind('password'), sweep: ofKind('sweep') };
}

/** A Table API call as the simulator's admin; the parsed answer, or undefined for 204. */
async function tableCall(
  sim: SimulatorHandle,
  method: string,
  pathAndQuery: string,
  body?: unknown,
): Promise<unknown> {
  const { login, password } = sim.credentials;
  const response = await fetch(`${sim.tableApiUrl}/${pathAndQuery}`, {
    method,
    headers: {
      Authorization: `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}`,
      Accept: 'application/json',
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${pathAndQuery}: HTTP ${response.status}`);
  return response.status === 204 ? undefined : response.json();
}
