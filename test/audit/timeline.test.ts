import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { Command } from 'commander';
import { historyFilesIn, historyFromJson, inRunOrder, loadHistoryFile } from '../../src/audit/histories';
import { buildTimeline } from '../../src/audit/timeline';
import { fetchRunHistories } from '../../src/client/histories';
import type { Timeline, TimelineEntry, TimelineKind } from '../../src/audit/timelineModel';
import { renderTimeline } from '../../src/audit/timelineText';
import { registerAuditCommands } from '../../src/cli/auditCommands';
import { CliError } from '../../src/cli/errors';
import { startOrder } from '../../src/client/provisioning';
import type { provisioningWorkflow } from '../../src/workflows';
import { statusQuery } from '../../src/contract/messages';
import { tempDir } from '../helpers/files';
import { testOrder, useProvisioningWorker } from '../helpers/provisioning';
import { createTimeSkippingEnv } from '../helpers/temporal';
import { waitFor } from '../helpers/waitFor';

/** The first release's recorded scenarios (release-2/ has scenarios of the same names). */
const HISTORIES = path.join(__dirname, '..', 'histories', 'release-1');
const HOUR = 60 * 60 * 1000;

/** The CLI's audit and replay commands, in this process (main.ts registers them the same way). */
async function runCli(...args: string[]): Promise<void> {
  const program = new Command('snow-ticket').option('-c, --config <file>').exitOverride();
  registerAuditCommands(program);
  await program.parseAsync(['node', 'snow-ticket', ...args]);
}

/** The timeline of a committed scenario, from all its run files. */
function scenario(name: string): Timeline {
  const files = historyFilesIn(HISTORIES).filter((file) =>
    new RegExp(`^${name}(-run\\d+)?\\.json$`).test(path.basename(file)),
  );
  assert.ok(files.length > 0, `the ${name} scenario is recorded`);
  return buildTimeline(inRunOrder(files.map(loadHistoryFile)));
}

function ofKind(timeline: Timeline, kind: TimelineKind): TimelineEntry[] {
  return timeline.entries.filter((entry) => entry.kind === kind);
}

function only(timeline: Timeline, kind: TimelineKind): TimelineEntry {
  const entries = ofKind(timeline, kind);
  assert.equal(entries.length, 1, `one ${kind} entry (got ${entries.length})`);
  return entries[0] as TimelineEntry;
}

/** Every timeline, whatever the scenario: ordered in time and runs, started by the order, no stack trace. */
function assertWellFormed(timeline: Timeline): void {
  const { entries } = timeline;
  assert.equal(entries[0]?.kind, 'order-received');
  for (let i = 1; i < entries.length; i += 1) {
    const [previous, entry] = [entries[i - 1] as TimelineEntry, entries[i] as TimelineEntry];
    assert.ok(entry.time >= previous.time, `entries in time order at ${entry.time}`);
    assert.ok(entry.run >= previous.run, 'entries in run order');
    assert.match(entry.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  }
  const json = JSON.stringify(timeline);
  assert.doesNotMatch(json, /\n\s+at |stackTrace|\.ts:\d+/, 'no stack trace in the timeline');
  assert.doesNotMatch(renderTimeline(timeline), /\n\s+at |\.ts:\d+/);
}

describe('audit timeline from the committed histories', () => {
  test('closed: order, ticket, checks, the signal, the assignment and the result', () => {
    const timeline = scenario('closed');
    assertWellFormed(timeline);
    const order = only(timeline, 'order-received');
    assert.match(
      order.text,
      /^order received: Added App_Incident, assignment audit-closed \(connection Sim\)$/,
    );
    assert.deepEqual(
      {
        changeType: order.data.changeType,
        resourceType: order.data.resourceType,
        assignmentId: order.data.assignmentId,
      },
      { changeType: 'Added', resourceType: 'App_Incident', assignmentId: 'audit-closed' },
    );
    const created = only(timeline, 'ticket-created');
    assert.match(created.text, /^ticket created: INC\d{7} \(incident\), New$/);
    assert.equal(created.data.created, true);
    assert.equal(created.data.duplicatesRetired, 0);

    const checks = ofKind(timeline, 'check');
    assert.ok(checks.length >= 2, `checks while the ticket was open (${checks.length})`);
    assert.equal(checks[0]?.text, 'check: ticket New');
    assert.match(
      checks.at(-1)?.text ?? '',
      /^check: ticket Closed \(closed by .+ at .+; Solved \(Permanently\): Access granted in the app\)$/,
    );
    assert.match(only(timeline, 'signal').text, /ticketChanged \(from servicenow-push\)/);

    const assignments = ofKind(timeline, 'assignment');
    assert.deepEqual(
      assignments.map((entry) => entry.data.state),
      ['Transmitted', 'Executed'],
    );
    assert.match(
      assignments[1]?.text ?? '',
      /^assignment Executed: ticket INC\d+ Closed; closed by .+; Solved \(Permanently\): Access granted in the app$/,
    );
    assert.equal(assignments[1]?.data.closeNotes, 'Access granted in the app');

    const end = timeline.entries.at(-1);
    assert.equal(end?.kind, 'completed');
    assert.match(
      end?.text ?? '',
      /^completed: Executed \(ticket closed\); ticket INC\d+ Closed; .*; \d+ checks$/,
    );
    assert.equal(end?.data.checks, checks.length);
    assert.equal(end?.data.provisioningState, 'Executed');
    assert.equal(end?.data.resolution, 'ticket-closed');
    assert.ok(end?.data.closedBy !== undefined && end.data.closedAt !== undefined);
    assert.deepEqual(
      timeline.runs.map((run) => ({ run: run.run, ending: run.ending })),
      [{ run: 1, ending: 'completed' }],
    );
  });

  test('canceled in ServiceNow: failed checks keep their message only, and the order ends Errored', () => {
    const timeline = scenario('canceled-in-servicenow');
    assertWellFormed(timeline);
    const failed = ofKind(timeline, 'check-failed');
    assert.ok(failed.length >= 1, 'checks failed while ServiceNow answered 5xx');
    for (const entry of failed) {
      assert.match(
        entry.text,
        /^check failed after 3 attempts: ServiceNow read on sc_request \w+ failed with HTTP 50\d/,
      );
      assert.equal(entry.data.type, 'ServiceNow.http');
      assert.equal(entry.data.attempts, 3);
    }
    assert.ok(ofKind(timeline, 'check').length >= 1, 'and checks succeeded afterwards');
    assert.equal(only(timeline, 'ticket-created').data.table, 'sc_request');
    const end = timeline.entries.at(-1);
    assert.match(
      end?.text ?? '',
      /^completed: Errored \(ticket canceled\); ticket REQ\d+ Closed Incomplete; .*Not approved by the application owner/,
    );
  });

  test('revoked: the cancel update with its reason and who asked, the ticket canceled, Errored', () => {
    const timeline = scenario('revoked');
    assertWellFormed(timeline);
    const update = only(timeline, 'update');
    assert.equal(update.text, 'cancel requested by jsmith: access request withdrawn by the manager');
    assert.equal(update.data.reason, 'access request withdrawn by the manager');
    assert.equal(update.data.requestedBy, 'jsmith');
    const canceled = only(timeline, 'ticket-canceled');
    assert.match(canceled.text, /^ticket INC\d+ canceled \(Canceled\)$/);
    assert.match(String(canceled.data.note), /revoked by jsmith: access request withdrawn/);
    const recorded = ofKind(timeline, 'assignment').at(-1);
    assert.equal(recorded?.data.state, 'Errored');
    assert.match(recorded?.text ?? '', /revoked by jsmith: access request withdrawn by the manager/);
    assert.match(only(timeline, 'update-completed').text, /^cancel update answered: Errored, revoked$/);
    assert.equal(timeline.entries.at(-1)?.data.resolution, 'revoked');
  });

  test('continued as new: one timeline across the runs, in order, with the run boundaries', () => {
    const timeline = scenario('continued-as-new');
    assertWellFormed(timeline);
    assert.ok(timeline.runs.length >= 2, `several runs (${timeline.runs.length})`);
    assert.deepEqual(
      timeline.runs.map((run) => run.run),
      timeline.runs.map((_run, index) => index + 1),
    );
    const boundaries = ofKind(timeline, 'continued-as-new');
    assert.equal(boundaries.length, timeline.runs.length - 1);
    boundaries.forEach((boundary, index) => {
      assert.equal(boundary.run, index + 1);
      assert.match(
        boundary.text,
        new RegExp(`^run ${index + 1} continued as new after \\d+ events \\(\\d+ checks so far\\)$`),
      );
      assert.equal(boundary.data.newRunId, timeline.runs[index + 1]?.runId);
    });
    assert.deepEqual(
      [...new Set(timeline.entries.map((entry) => entry.run))],
      timeline.runs.map((run) => run.run),
      'every run contributes entries',
    );
    assert.equal(
      ofKind(timeline, 'run-started').length,
      0,
      'the continue-as-new entries mark the boundaries',
    );
    const checks = ofKind(timeline, 'check').length;
    assert.equal(timeline.entries.at(-1)?.data.checks, checks, 'checks of all runs add up to the result');
    assert.equal(timeline.entries.at(-1)?.run, timeline.runs.length);

    // The file order does not matter: runs are put back in the order they ran.
    const files = historyFilesIn(HISTORIES).filter((file) =>
      path.basename(file).startsWith('continued-as-new-run'),
    );
    const reversed = buildTimeline(inRunOrder([...files].reverse().map(loadHistoryFile)));
    assert.deepEqual(reversed, timeline);

    // A later run alone still numbers itself from the state it carried.
    const lastRun = buildTimeline([loadHistoryFile(files.at(-1) as string)]);
    assert.equal(lastRun.runs[0]?.run, timeline.runs.length);
    assert.match(
      lastRun.entries[0]?.text ?? '',
      new RegExp(`^run ${timeline.runs.length} started \\(\\d+ checks so far\\)$`),
    );
  });

  test('workflow canceled in Temporal: who asked, the ticket canceled, the assignment recorded, canceled', () => {
    const timeline = scenario('workflow-canceled');
    const kinds = timeline.entries.map((entry) => entry.kind).filter((kind) => kind !== 'check');
    assert.deepEqual(kinds.slice(-4), ['cancel-requested', 'ticket-canceled', 'assignment', 'canceled']);
    assert.match(only(timeline, 'cancel-requested').text, /^workflow cancellation requested by \S+/);
    assert.match(
      ofKind(timeline, 'assignment').at(-1)?.text ?? '',
      /^assignment Errored: .*canceled in Temporal/,
    );
    assert.equal(timeline.runs[0]?.ending, 'canceled');
  });

  test('reminders: one entry per work note, with its text', () => {
    const timeline = scenario('reminders');
    const reminders = ofKind(timeline, 'reminder');
    assert.equal(reminders.length, 3, 'after 1, 2 and 3 days');
    for (const reminder of reminders) {
      assert.match(reminder.text, /^reminder noted on INC\d+$/);
      assert.match(String(reminder.data.note), /^Reminder: this access request has been open for/);
    }
    assert.match(only(timeline, 'planned').text, /reminders from 1d/);
  });

  test('text: unchanged checks are collapsed into one line, JSON keeps each one', () => {
    const timeline = scenario('continued-as-new');
    const text = renderTimeline(timeline);
    const lines = text.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^Workflow Sim:audit-can:added:\w+: \d+ runs, \d+ events$/);
    assert.match(
      lines[1] ?? '',
      /^\S+Z {2}run 1 {2}order received: Added App_Incident, assignment audit-can \(connection Sim\)$/,
    );
    const collapsed = lines.filter((line) => /run \d+ {2}\d+ checks, ticket New \(until \S+Z\)$/.test(line));
    assert.equal(collapsed.length, timeline.runs.length, 'one collapsed line per run');
    const counted = collapsed.reduce((total, line) => total + Number(/ (\d+) checks,/.exec(line)?.[1]), 0);
    const newChecks = ofKind(timeline, 'check').filter((entry) => entry.text === 'check: ticket New').length;
    assert.equal(counted, newChecks);
    assert.ok(
      lines.length < 20,
      `a short text (${lines.length} lines) for ${timeline.entries.length} entries`,
    );

    const everything = renderTimeline(timeline, { collapseChecksFrom: 0 }).trimEnd().split('\n');
    assert.equal(everything.length, timeline.entries.length + 1);
    const parsed = JSON.parse(JSON.stringify(timeline)) as Timeline;
    assert.equal(
      parsed.entries.filter((entry) => entry.kind === 'check').length,
      ofKind(timeline, 'check').length,
    );
  });

  test('a failed or terminated workflow ends with its failure message, never its stack trace', () => {
    const payload = (value: unknown) => ({
      metadata: { encoding: Buffer.from('json/plain').toString('base64') },
      data: Buffer.from(JSON.stringify(value)).toString('base64'),
    });
    const startedEvent = {
      eventId: '1',
      eventTime: '2026-01-05T08:00:00Z',
      eventType: 'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED',
      workflowExecutionStartedEventAttributes: {
        workflowType: { name: 'provisioningWorkflow' },
        workflowId: 'Sim:a-1:added:0123456789ab',
        input: { payloads: [payload(testOrder())] },
      },
    };
    const failed = buildTimeline([
      {
        history: historyFromJson({
          events: [
            startedEvent,
            {
              eventId: '2',
              eventTime: '2026-01-05T08:00:01Z',
              eventType: 'EVENT_TYPE_WORKFLOW_EXECUTION_FAILED',
              workflowExecutionFailedEventAttributes: {
                failure: {
                  message: 'Resource type "App_Incident": TitleTemplate does not compile',
                  stackTrace:
                    'ApplicationFailure: ...\n    at render (/srv/src/provisioning/templates.ts:12:3)',
                  applicationFailureInfo: { type: 'TemplateError', nonRetryable: true },
                  cause: { message: 'Parse error on line 1', stackTrace: '    at parse (handlebars.js:1:1)' },
                },
              },
            },
          ],
        }),
      },
    ]);
    assert.equal(failed.workflowId, 'Sim:a-1:added:0123456789ab');
    const end = only(failed, 'failed');
    assert.equal(
      end.text,
      'failed: Resource type "App_Incident": TitleTemplate does not compile: Parse error on line 1',
    );
    assert.deepEqual(end.data, {
      message: 'Resource type "App_Incident": TitleTemplate does not compile',
      type: 'TemplateError',
      nonRetryable: true,
      causes: ['Parse error on line 1'],
    });
    assert.deepEqual(failed.runs, [
      {
        run: 1,
        events: 2,
        startedAt: '2026-01-05T08:00:00.000Z',
        endedAt: '2026-01-05T08:00:01.000Z',
        ending: 'failed',
      },
    ]);
    assert.doesNotMatch(JSON.stringify(failed) + renderTimeline(failed), /templates\.ts|handlebars\.js| at /);

    const terminated = buildTimeline([
      {
        history: historyFromJson({
          events: [
            startedEvent,
            {
              eventId: '2',
              eventTime: '2026-01-06T08:00:00Z',
              eventType: 'EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED',
              workflowExecutionTerminatedEventAttributes: { reason: 'stuck order', identity: 'ops@admin' },
            },
          ],
        }),
      },
    ]);
    assert.equal(terminated.entries.at(-1)?.text, 'terminated by ops@admin: stuck order');
  });

  test('snow-ticket audit --file: text or JSON, to a file', async () => {
    const dir = tempDir();
    const files = historyFilesIn(HISTORIES).filter((file) =>
      path.basename(file).startsWith('continued-as-new-run'),
    );
    const text = path.join(dir, 'audit.txt');
    // Run files in any order on the command line.
    await runCli('audit', ...[...files].reverse().flatMap((file) => ['--file', file]), '--output', text);
    assert.equal(readFileSync(text, 'utf8'), renderTimeline(scenario('continued-as-new')));
    const json = path.join(dir, 'audit.json');
    await runCli(
      'audit',
      '--json',
      '--all-checks',
      '--output',
      json,
      ...files.flatMap((file) => ['--file', file]),
    );
    assert.deepEqual(
      JSON.parse(readFileSync(json, 'utf8')),
      JSON.parse(JSON.stringify(scenario('continued-as-new'))),
    );

    for (const args of [[], ['some-id', '--file', files[0] as string]]) {
      await assert.rejects(runCli('audit', ...args), (error: unknown) => {
        assert.ok(error instanceof CliError);
        assert.equal(error.exitCode, 2);
        assert.match(error.message, /either a workflow id .* or --file/);
        return true;
      });
    }
    await assert.rejects(
      runCli('audit', '--file', path.join(dir, 'missing.json')),
      /missing\.json: not a JSON file/,
    );
  });
});

describe('audit timeline of a live workflow (time-skipping server, simulator, real worker)', () => {
  const fixture = useProvisioningWorker({
    createEnv: createTimeSkippingEnv,
    taskQueue: 'audit-live',
    settings: {
      Polling: { FirstCheckAfter: '1m', MaxInterval: '10m', BackoffCoefficient: 2, Jitter: 0.1 },
    },
  });
  const { dataDir } = fixture;

  test('fetchRunHistories follows continue-as-new and the timeline spans every run', async () => {
    const input = testOrder();
    const started = await startOrder(fixture.env.client, input, { taskQueue: fixture.harness.taskQueue });
    const handle = fixture.env.client.workflow.getHandle<typeof provisioningWorkflow>(started.workflowId);
    const ticket = await waitFor(
      'the ticket to be opened',
      async () => (await handle.query(statusQuery)).ticket,
    );
    await fixture.env.sleep(10 * HOUR);
    const waiting = await handle.query(statusQuery);
    assert.ok(waiting.run >= 2, `the workflow continued as new (run ${waiting.run})`);
    const open = buildTimeline(await fetchRunHistories(fixture.env.client, handle.workflowId));
    assert.equal(open.runs.length, waiting.run);
    assert.equal(open.runs.at(-1)?.ending, undefined);
    assert.match(renderTimeline(open), /^Workflow \S+: \d+ runs, \d+ events, still running\n/);
    fixture.sim.instance.actOnTicket(ticket.number, { action: 'close', notes: 'done' });
    const result = await handle.result();

    const runs = await fetchRunHistories(fixture.env.client, handle.workflowId);
    assert.equal(runs.length, waiting.run, 'every run, from the first');
    assert.ok(runs.every((run) => run.workflowId === handle.workflowId && run.runId !== ''));
    const firstRunId = runs[0]?.runId as string;
    const fromFirst = await fetchRunHistories(fixture.env.client, handle.workflowId, { runId: firstRunId });
    assert.deepEqual(
      fromFirst.map((run) => run.runId),
      runs.map((run) => run.runId),
      'forwards from the first run',
    );
    await assert.rejects(
      fetchRunHistories(fixture.env.client, handle.workflowId, { maxRuns: 1 }),
      /has more than 1 runs/,
    );

    const timeline = buildTimeline(runs);
    assertWellFormed(timeline);
    assert.equal(timeline.workflowId, handle.workflowId);
    assert.equal(timeline.runs.length, runs.length);
    assert.match(
      timeline.entries[0]?.text ?? '',
      new RegExp(`assignment ${input.order.AssignedResourceTypeId} `),
    );
    assert.equal(only(timeline, 'ticket-created').data.number, ticket.number);
    assert.equal(ofKind(timeline, 'continued-as-new').length, runs.length - 1);
    assert.equal(ofKind(timeline, 'check').length, result.checks);
    const end = timeline.entries.at(-1);
    assert.equal(end?.kind, 'completed');
    assert.equal(end?.run, runs.length);
    assert.equal(end?.data.provisioningState, result.provisioningState);
    assert.match(
      renderTimeline(timeline),
      /completed: Executed \(ticket closed\); ticket INC\d+ Closed; .*done/,
    );

    // The same through the CLI, from the server the settings name, and a replay of every run.
    const settingsFile = fixture.writeCliSettings();
    const out = path.join(dataDir, 'audit.txt');
    await runCli('--config', settingsFile, 'audit', handle.workflowId, '--output', out);
    assert.equal(readFileSync(out, 'utf8'), renderTimeline(timeline));
    await assert.rejects(
      runCli('--config', settingsFile, 'audit', 'no-such-order', '--output', out),
      (error: unknown) => {
        assert.ok(error instanceof CliError);
        assert.match(error.message, /no-such-order/);
        return true;
      },
    );
    const printed: string[] = [];
    const log = console.log;
    console.log = (...values: unknown[]) => void printed.push(values.join(' '));
    try {
      await runCli('--config', settingsFile, 'replay', '--workflow-id', handle.workflowId);
    } finally {
      console.log = log;
    }
    assert.equal(printed.filter((line) => line.startsWith('OK ')).length, runs.length, printed.join('\n'));
    assert.match(
      printed.at(-1) ?? '',
      new RegExp(`^${runs.length} replayed: ${runs.length} OK, 0 non-deterministic, 0 failed$`),
    );
  });
});
