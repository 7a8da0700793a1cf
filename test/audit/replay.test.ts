import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { bundleWorkflowCode, Worker, type WorkflowBundle } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { defaultPayloadConverter } from '@temporalio/common';
import { Command } from 'commander';
import {
  continuedAs,
  continuedFrom,
  historyFilesIn,
  historyJSON,
  loadHistoryFile,
  type RunHistory,
} from '../../src/audit/histories';
import { replayHistories, replayHistory, summarise } from '../../src/audit/replay';
import { registerAuditCommands } from '../../src/cli/auditCommands';
import { CliError } from '../../src/cli/errors';
import { startOrder } from '../../src/client/provisioning';
import {
  PASSWORD_RESET_WORKFLOW_TYPE,
  PROVISIONING_WORKFLOW_TYPE,
  passwordTaskQueue,
  TICKET_SWEEP_WORKFLOW_TYPE,
} from '../../src/contract/names';
import { encryptionKeyIds } from '../../src/audit/historyDecoding';
import type { CheckTicketRequest } from '../../src/contract/provisioningActivities';
import type { SweepTicketChangesResult, TicketSweepInput } from '../../src/contract/sweep';
import { SWEEPS_PER_RUN } from '../../src/workflows/sweep/workflow';
import type { provisioningWorkflow } from '../../src/workflows';
import { statusQuery, ticketChangedSignal } from '../../src/contract/messages';
import { tempDir, writeJson } from '../helpers/files';
import { testOrder, useProvisioningWorker } from '../helpers/provisioning';
import { createDevServerEnv, workflowBundle } from '../helpers/temporal';
import { waitFor } from '../helpers/waitFor';

const HISTORIES = path.join(__dirname, '..', 'histories');
/** The first release's histories, which the edit-based tests below modify. */
const RELEASE_1 = path.join(HISTORIES, 'release-1');
/** Scenarios recorded by scripts/record-histories.ts, per release folder; each must stay covered. */
const SCENARIOS: Readonly<Record<string, readonly string[]>> = {
  'release-1': [
    'closed',
    'canceled-in-servicenow',
    'revoked',
    'continued-as-new',
    'workflow-canceled',
    'reminders',
  ],
  'release-2': [
    'closed',
    'continued-as-new',
    'missing-ticket',
    'foreign-ticket',
    'refused-cancel',
    'cancel-before-plan',
    'failed-plan',
    'upgraded-mid-order',
    'revoked',
    'workflow-canceled',
  ],
  'release-3': [
    'closed',
    'closed-password-orders',
    'password-reset',
    'password-reset-rejected',
    'password-order',
    'password-order-unknown-user',
  ],
  'release-4': ['closed-after-notice', 'ticket-sweep'],
};
/** Release 3's histories of the password task queue: opened, the password withheld (scripts/record-histories). */
const PASSWORD_HISTORIES: Readonly<Record<string, string>> = {
  'password-reset': PASSWORD_RESET_WORKFLOW_TYPE,
  'password-reset-rejected': PASSWORD_RESET_WORKFLOW_TYPE,
  'password-order': PROVISIONING_WORKFLOW_TYPE,
  'password-order-unknown-user': PROVISIONING_WORKFLOW_TYPE,
};

function committed(name: string): RunHistory {
  return loadHistoryFile(path.join(RELEASE_1, `${name}.json`));
}

interface JsonEvent {
  eventType: string;
  activityTaskScheduledEventAttributes?: { activityType: { name: string } };
  [key: string]: unknown;
}

/** A committed history as plain proto JSON, to edit. */
function historyJson(name: string): { events: JsonEvent[] } {
  return JSON.parse(readFileSync(path.join(RELEASE_1, `${name}.json`), 'utf8')) as { events: JsonEvent[] };
}

async function runCli(...args: string[]): Promise<void> {
  const program = new Command('snow-ticket').option('-c, --config <file>').exitOverride();
  registerAuditCommands(program);
  await program.parseAsync(['node', 'snow-ticket', ...args]);
}

/** Runs the CLI and returns what it printed with console.log. */
async function printedBy(...args: string[]): Promise<string[]> {
  const printed: string[] = [];
  const log = console.log;
  console.log = (...values: unknown[]) => void printed.push(values.join(' '));
  try {
    await runCli(...args);
  } finally {
    console.log = log;
  }
  return printed;
}

describe('replay of the committed histories (test/histories)', () => {
  let current: WorkflowBundle;
  before(async () => {
    current = await workflowBundle();
  });

  test('every committed history replays against the current workflow code', async () => {
    const files = historyFilesIn(HISTORIES);
    for (const [release, scenarios] of Object.entries(SCENARIOS)) {
      for (const scenario of scenarios) {
        assert.ok(
          files.some((file) => path.relative(HISTORIES, file).startsWith(`${release}${path.sep}${scenario}`)),
          `a history of the ${scenario} scenario of ${release} is committed (npm run histories:record)`,
        );
      }
    }
    const outcomes = await replayHistories(files.map(loadHistoryFile), { workflowBundle: current });
    assert.equal(outcomes.length, files.length, 'one result per history file');
    // Password queue histories get a replay worker of their own: results still come in the files' order.
    assert.deepEqual(
      outcomes.map((outcome) => outcome.source),
      files,
    );
    for (const outcome of outcomes) {
      assert.equal(
        outcome.status,
        'ok',
        `${outcome.source} does not replay: ${outcome.message}\n` +
          'A workflow change broke running workflows: guard it with patched() (see README, "Audits and replay"); ' +
          'do not re-record the histories to make this pass.',
      );
    }
    assert.deepEqual(summarise(outcomes), {
      total: files.length,
      ok: files.length,
      nondeterministic: 0,
      failed: 0,
    });
  });

  test('the password task queue histories replay without a key: opened, their password withheld', async () => {
    const release3 = path.join(HISTORIES, 'release-3');
    for (const [scenario, workflowType] of Object.entries(PASSWORD_HISTORIES)) {
      const file = path.join(release3, `${scenario}.json`);
      const run = loadHistoryFile(file);
      const started = run.history.events?.[0]?.workflowExecutionStartedEventAttributes;
      assert.equal(started?.workflowType?.name, workflowType, `${scenario}: workflow type`);
      assert.equal(started?.taskQueue?.name, passwordTaskQueue(`record-3-${scenario}`), `${scenario}: queue`);
      assert.deepEqual(encryptionKeyIds(run.history), [], `${scenario}: no sealed payload left`);
      const input = Buffer.from(started?.input?.payloads?.[0]?.data ?? []).toString('utf8');
      assert.match(input, /"\[password withheld\]"/, `${scenario}: the input's password is withheld`);
      const outcome = await replayHistory(run, { workflowBundle: current });
      assert.equal(outcome.status, 'ok', `${scenario}: ${outcome.message}`);
    }
  });

  test("release 4's checks say what triggered them: the schedule, and the ticketChanged notice", () => {
    const run = loadHistoryFile(path.join(HISTORIES, 'release-4', 'closed-after-notice.json'));
    const triggers = (run.history.events ?? [])
      .map((event) => event.activityTaskScheduledEventAttributes)
      .filter((scheduled) => scheduled?.activityType?.name === 'checkTicket')
      .map(
        (scheduled) =>
          defaultPayloadConverter.fromPayload<CheckTicketRequest>(scheduled?.input?.payloads?.[0] ?? {})
            .trigger,
      );
    assert.ok(triggers.length > 2, 'the history holds its checks');
    assert.ok(
      triggers.every((trigger) => trigger === 'schedule' || trigger === 'notice'),
      triggers.join(),
    );
    assert.deepEqual(
      triggers.filter((trigger) => trigger === 'notice'),
      ['notice'],
      'one check was asked for by the notice',
    );
  });

  test("release 4's ticket sweep: its runs chain through continue-as-new and its sweeps tell the order", () => {
    const [first, second] = ['run1', 'run2'].map((run) =>
      loadHistoryFile(path.join(HISTORIES, 'release-4', `ticket-sweep-${run}.json`)),
    );
    assert.ok(first !== undefined && second !== undefined);
    const started = (run: RunHistory) => run.history.events?.[0]?.workflowExecutionStartedEventAttributes;
    for (const run of [first, second]) {
      assert.equal(started(run)?.workflowType?.name, TICKET_SWEEP_WORKFLOW_TYPE);
    }
    // Each run's started event holds its own run id (originalExecutionRunId): run 1 names run 2 and back.
    assert.equal(continuedAs(first.history), started(second)?.originalExecutionRunId);
    assert.equal(continuedFrom(second.history), started(first)?.originalExecutionRunId);
    assert.ok(
      second.history.events?.at(-1)?.workflowExecutionTerminatedEventAttributes,
      'run 2 is terminated',
    );
    const sweeps = (first.history.events ?? [])
      .map((event) => event.activityTaskCompletedEventAttributes?.result?.payloads?.[0])
      .filter((payload) => payload !== undefined)
      .map((payload) => defaultPayloadConverter.fromPayload<Partial<SweepTicketChangesResult>>(payload))
      .filter((result) => result.counts !== undefined);
    assert.equal(sweeps.length, SWEEPS_PER_RUN);
    assert.deepEqual(
      sweeps.slice(0, 5).map((sweep) => [sweep.counts?.signaled, sweep.counts?.repeated]),
      [
        [1, 0],
        [0, 1],
        [1, 0],
        [1, 0],
        [0, 1],
      ],
      'told of the new ticket, nothing changed, told it was worked, told it was closed, nothing changed',
    );
    const input = defaultPayloadConverter.fromPayload<TicketSweepInput>(
      started(second)?.input?.payloads?.[0] ?? {},
    );
    assert.equal(input.carried?.sweeps, SWEEPS_PER_RUN);
    assert.equal(input.carried?.watermark, sweeps.at(-1)?.watermark);
  });

  test('the test can fail: a ticket sweep history whose sweep was another activity is non-deterministic', async () => {
    const file = path.join(HISTORIES, 'release-4', 'ticket-sweep-run1.json');
    const json = JSON.parse(readFileSync(file, 'utf8')) as { events: JsonEvent[] };
    const sweep = json.events.find(
      (event) => event.activityTaskScheduledEventAttributes?.activityType.name === 'sweepTicketChanges',
    );
    assert.ok(sweep?.activityTaskScheduledEventAttributes, 'the history sweeps');
    sweep.activityTaskScheduledEventAttributes.activityType.name = 'planTicketSweep';
    const run = loadHistoryFile(writeJson(tempDir(), 'ticket-sweep-edited.json', json));
    const outcome = await replayHistory(run, { workflowBundle: current });
    assert.equal(outcome.status, 'nondeterministic', outcome.message);
    assert.match(outcome.message ?? '', /sweepTicketChanges|planTicketSweep/);
  });

  test('the test can fail: a password reset history whose activity was another one is non-deterministic', async () => {
    const json = JSON.parse(
      readFileSync(path.join(HISTORIES, 'release-3', 'password-reset.json'), 'utf8'),
    ) as { events: JsonEvent[] };
    const scheduled = json.events.find((event) => event.activityTaskScheduledEventAttributes !== undefined);
    assert.equal(scheduled?.activityTaskScheduledEventAttributes?.activityType.name, 'setUserPassword');
    scheduled.activityTaskScheduledEventAttributes.activityType.name = 'resetOrderPassword';
    const run = loadHistoryFile(writeJson(tempDir(), 'password-reset-edited.json', json));
    const outcome = await replayHistory(run, { workflowBundle: current });
    assert.equal(outcome.status, 'nondeterministic', outcome.message);
    assert.match(outcome.message ?? '', /setUserPassword|resetOrderPassword/);
  });

  test('a run started before the order limits replays even when its order breaks them', async () => {
    // The first release did not limit ResourceType.Identifier; new runs refuse 5,000 characters on arrival,
    // but a run already in flight with such an order must replay as it ran.
    const edited = historyJson('closed');
    const started = edited.events[0] as unknown as {
      workflowExecutionStartedEventAttributes: { input: { payloads: { data: string }[] } };
    };
    const payload = started.workflowExecutionStartedEventAttributes.input.payloads[0];
    assert.ok(payload !== undefined);
    const input = JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8')) as {
      order: { ResourceType: { Identifier: string } };
    };
    input.order.ResourceType.Identifier = 'x'.repeat(5_000);
    payload.data = Buffer.from(JSON.stringify(input)).toString('base64');
    const run = loadHistoryFile(writeJson(tempDir(), 'closed-long-identifier.json', edited));
    const outcome = await replayHistory(run, { workflowBundle: current });
    assert.equal(outcome.status, 'ok', outcome.message);
  });

  test('the test can fail: a workflow that starts a timer first is non-deterministic on a committed history', async () => {
    const reordered = await bundleWorkflowCode({
      workflowsPath: require.resolve('./fixtures/reorderedWorkflow'),
      logger: { trace() {}, debug() {}, info() {}, log() {}, warn: console.warn, error: console.error },
    });
    const { history } = committed('closed');
    await assert.rejects(
      Worker.runReplayHistory({ workflowBundle: reordered }, history),
      (error: unknown) => {
        assert.ok(error instanceof DeterminismViolationError, `non-determinism, not ${String(error)}`);
        assert.match(error.message, /nondeterminism/i);
        return true;
      },
    );
    // The same through our report: the history is named, the status says why.
    const outcome = await replayHistory(committed('revoked'), { workflowBundle: reordered });
    assert.equal(outcome.status, 'nondeterministic');
    assert.match(outcome.message ?? '', /nondeterminism/i);
    assert.match(outcome.source, /revoked\.json$/);
  });

  test('an edited history is reported non-deterministic while the others in the batch replay OK', async () => {
    const dir = tempDir();
    const edited = historyJson('revoked');
    const planned = edited.events.find(
      (event) => event.activityTaskScheduledEventAttributes?.activityType.name === 'planProvisioning',
    );
    assert.ok(planned?.activityTaskScheduledEventAttributes, 'the history plans the order');
    planned.activityTaskScheduledEventAttributes.activityType.name = 'openTicket';
    const editedFile = writeJson(dir, 'edited.json', edited);
    const outcomes = await replayHistories(
      [committed('closed'), loadHistoryFile(editedFile), committed('reminders')],
      { workflowBundle: current },
    );
    assert.deepEqual(
      outcomes.map((outcome) => outcome.status),
      ['ok', 'nondeterministic', 'ok'],
    );
    assert.equal(outcomes[1]?.source, editedFile);
    assert.match(outcomes[1]?.message ?? '', /planProvisioning|openTicket/);
  });

  test('history files in the older format (event types in PascalCase) are read and replay', async () => {
    const dir = tempDir();
    const json = historyJson('workflow-canceled');
    const pascal = {
      events: json.events.map((event) => ({
        ...event,
        eventType: event.eventType
          .replace(/^EVENT_TYPE_/, '')
          .toLowerCase()
          .replace(/(^|_)([a-z])/g, (_match, _sep: string, letter: string) => letter.toUpperCase()),
      })),
    };
    assert.equal(pascal.events[0]?.eventType, 'WorkflowExecutionStarted');
    const run = loadHistoryFile(writeJson(dir, 'pascal.json', pascal));
    assert.equal(run.history.events?.length, json.events.length);
    assert.equal((await replayHistory(run, { workflowBundle: current })).status, 'ok');
  });

  test('saving a loaded history gives back the same file', () => {
    const file = path.join(RELEASE_1, 'revoked.json');
    assert.equal(historyJSON(loadHistoryFile(file).history), readFileSync(file, 'utf8'));
  });

  test('unreadable history files are refused with the file named', () => {
    const dir = tempDir();
    assert.throws(
      () => loadHistoryFile(writeJson(dir, 'broken.json', '{"events": [')),
      /broken\.json: not a JSON file/,
    );
    assert.throws(
      () => loadHistoryFile(writeJson(dir, 'other.json', { rows: [] })),
      /other\.json: not a workflow history/,
    );
  });

  test('snow-ticket replay --dir passes on the committed histories and fails (exit 1) on an edited one', async () => {
    const output: string[] = [];
    const log = console.log;
    console.log = (...values: unknown[]) => void output.push(values.join(' '));
    try {
      await runCli('replay', '--dir', HISTORIES);
      assert.match(output.join('\n'), /^OK +.*closed\.json/m);
      assert.match(output.at(-1) ?? '', /replayed: \d+ OK, 0 non-deterministic, 0 failed/);

      const edited = historyJson('closed');
      const scheduled = edited.events.find(
        (event) => event.activityTaskScheduledEventAttributes !== undefined,
      );
      assert.ok(scheduled?.activityTaskScheduledEventAttributes);
      scheduled.activityTaskScheduledEventAttributes.activityType.name = 'cancelTicket';
      const file = writeJson(tempDir(), 'closed-edited.json', edited);
      output.length = 0;
      await assert.rejects(runCli('replay', '--file', file), (error: unknown) => {
        assert.ok(error instanceof CliError);
        assert.equal(error.exitCode, 1);
        assert.match(error.message, /1 of 1 histories do not replay/);
        return true;
      });
      assert.match(
        output.join('\n'),
        /^NON-DETERMINISTIC +closed-edited run \S+ +\(.*closed-edited\.json\)\n {4}\[TMPRL1100\] Nondeterminism error: Activity type/m,
      );
    } finally {
      console.log = log;
    }
  });
});

describe('snow-ticket replay --query (dev server, visibility)', () => {
  const taskQueue = 'replay-query';
  const fixture = useProvisioningWorker({ createEnv: createDevServerEnv, taskQueue });
  let settingsFile: string;

  before(() => {
    settingsFile = fixture.writeCliSettings();
  });

  /** An order that ends at once: the ticket is closed and the workflow told so. */
  async function fulfilledOrder(): Promise<string> {
    const started = await startOrder(fixture.env.client, testOrder(), { taskQueue });
    const handle = fixture.env.client.workflow.getHandle<typeof provisioningWorkflow>(started.workflowId);
    const ticket = await waitFor('the ticket', async () => (await handle.query(statusQuery)).ticket);
    fixture.sim.instance.actOnTicket(ticket.number, { action: 'close' });
    await handle.signal(ticketChangedSignal, { source: 'test' });
    assert.equal((await handle.result()).provisioningState, 'Executed');
    return started.workflowId;
  }

  test('replays the executions a visibility query lists, within --limit', async () => {
    const ids = [await fulfilledOrder(), await fulfilledOrder()];
    const query = `WorkflowType = '${PROVISIONING_WORKFLOW_TYPE}' AND TaskQueue = '${taskQueue}'`;
    // Visibility is eventually consistent: wait until both are listed.
    await waitFor('both executions to be listed', async () => {
      const listed: string[] = [];
      for await (const execution of fixture.env.client.workflow.list({ query }))
        listed.push(execution.workflowId);
      return ids.every((id) => listed.includes(id)) ? listed : undefined;
    });

    const all = JSON.parse(
      (await printedBy('--config', settingsFile, 'replay', '--query', query, '--json')).join('\n'),
    ) as {
      summary: { total: number; ok: number };
      limitReached: boolean;
      outcomes: { workflowId: string; status: string; source: string }[];
    };
    assert.deepEqual(all.summary, { total: 2, ok: 2, nondeterministic: 0, failed: 0 });
    assert.equal(all.limitReached, false);
    assert.deepEqual(all.outcomes.map((outcome) => outcome.workflowId).sort(), [...ids].sort());
    assert.ok(all.outcomes.every((outcome) => outcome.source === 'server'));

    const limited = await printedBy('--config', settingsFile, 'replay', '--query', query, '--limit', '1');
    assert.equal(limited.filter((line) => line.startsWith('OK ')).length, 1);
    assert.match(
      limited.at(-1) ?? '',
      /^1 replayed: 1 OK, 0 non-deterministic, 0 failed \(stopped at --limit 1\)$/,
    );

    // No source at all: the provisioning workflows of the server (this server holds only those two).
    const byDefault = await printedBy('--config', settingsFile, 'replay');
    assert.match(byDefault.at(-1) ?? '', /^2 replayed: 2 OK/);
  });
});
