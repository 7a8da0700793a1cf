import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ScheduleNotFoundError, ScheduleOverlapPolicy } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { exportScheduleId, exportWorkflowIdPrefix, runningExports } from '../../src/client/exportRuns';
import type { ExportScheduleListing } from '../../src/client/exportSchedules';
import type { ExportResult } from '../../src/contract/export';
import { IDENTITY_TABLES } from '../../src/servicenow/tables';
import { type CliResult, jsonOf, ok, runCli as run } from '../helpers/cli';
import { tempDir, writeJson } from '../helpers/files';
import { provisioningWorker, simulatorConnection, type ProvisioningHarness } from '../helpers/provisioning';
import { useSimulator } from '../helpers/simulator';
import { createDevServerEnv } from '../helpers/temporal';
import { waitFor } from '../helpers/waitFor';
import { CONNECTION, exportTestSettings, readCsv, storeRows, tempFilesIn } from '../helpers/export';

/**
 * `snow-ticket export` and `export schedule ...` end to end: a real Temporal dev server, a real worker with the
 * connector's activities against the ServiceNow simulator, and the CLI run as child processes with a settings
 * file pointing at both, as an operator runs it.
 */

const TASK_QUEUE = 'export-cli';

function exitsWith(result: CliResult, status: number, stderr: RegExp): void {
  assert.equal(
    result.status,
    status,
    `exit ${result.status}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`,
  );
  assert.match(result.stderr, stderr);
}

/** The rows of the summary table, by table name: `[mode, rows, duplicates skipped, watermark?, file]`. */
function summaryRows(stdout: string): Map<string, string[]> {
  const lines = stdout.split('\n');
  const head = lines.findIndex((line) => /^table\s+mode\s+rows\s+duplicates skipped/.test(line));
  assert.ok(head >= 0, `a summary table in:\n${stdout}`);
  const rows = new Map<string, string[]>();
  for (const line of lines.slice(head + 1)) {
    if (line.trim() === '') break;
    const [table, ...cells] = line.split(/\s{2,}/);
    rows.set(table ?? '', cells);
  }
  return rows;
}

describe('snow-ticket export, end to end (dev server, worker, simulator, CLI processes)', () => {
  const simulator = useSimulator();
  const dataDir = tempDir('snow-ticket-export-cli-');
  const outDir = path.join(dataDir, 'exports');
  let env: TestWorkflowEnvironment;
  let harness: ProvisioningHarness;
  let running: Promise<void>;
  let settingsFile: string;
  let worker: Worker;

  before(async () => {
    simulator.sim.instance.seedDirectory({ users: 180, groups: 12, membershipsPerUser: 3, roles: 4 });
    env = await createDevServerEnv();
    // ResponseSizeLimit 50: several pages per table, so that progress has something to show.
    const settings = exportTestSettings(simulator.sim, dataDir, { OutputDirectory: outDir });
    harness = await provisioningWorker(env, settings, TASK_QUEUE);
    worker = harness.worker;
    running = worker.run();
    settingsFile = writeJson(dataDir, 'cli-settings.json', {
      Connections: simulatorConnection(simulator.sim),
      TicketConnector: {
        DataDirectory: dataDir,
        Temporal: { Address: env.address, Namespace: env.namespace ?? 'default', TaskQueue: TASK_QUEUE },
      },
    });
  });

  after(async () => {
    worker?.shutdown();
    await running;
    await harness?.ledger.close();
    await env?.teardown();
  });

  const cli = (...args: string[]) => run(['--config', settingsFile, ...args]);

  /** Each schedule test starts without the connection's schedule, whatever the previous one left. */
  async function deleteScheduleQuietly(): Promise<void> {
    await env.client.schedule
      .getHandle(exportScheduleId(CONNECTION))
      .delete()
      .catch((error: unknown) => {
        if (!(error instanceof ScheduleNotFoundError)) throw error;
      });
  }

  test('--help describes every export command, with examples', async () => {
    const commands = [
      ['export'],
      ['export', 'watch'],
      ['export', 'schedule'],
      ...['create', 'list', 'pause', 'unpause', 'delete', 'trigger'].map((name) => [
        'export',
        'schedule',
        name,
      ]),
    ];
    const results = await Promise.all(commands.map((command) => run([...command, '--help'])));
    for (const [i, command] of commands.entries()) {
      const result = ok(results[i] as CliResult);
      assert.match(result.stdout, new RegExp(`^Usage: snow-ticket ${command.join(' ')} `));
      assert.match(result.stdout, /\nExamples:\n {2}\$ snow-ticket /, command.join(' '));
    }
    assert.match(ok(results[0] as CliResult).stdout, /--no-progress/);
  });

  test('export --complete writes every table and prints plain progress and a summary', async () => {
    const result = ok(await cli('export', '--connection', CONNECTION, '--complete'));
    // Not a terminal: plain lines, no bars.
    assert.doesNotMatch(result.stdout, /\u2588|\u2591/);
    assert.ok(!result.stdout.includes('\u001b['), 'no terminal escapes');
    assert.match(
      result.stdout,
      /^started {2}export:Sim:\d{4}-\d\d-\d\dT[\d:.]+Z {2}\(complete export of Sim;/m,
    );
    for (const table of IDENTITY_TABLES) {
      assert.match(result.stdout, new RegExp(`^${table}: done \\(complete\\), \\d+ rows`, 'm'));
    }
    assert.match(result.stdout, /^Export export:Sim:\S+ of Sim finished: 5 tables, \d+ rows in /m);
    const summary = summaryRows(result.stdout);
    assert.deepEqual([...summary.keys()], [...IDENTITY_TABLES]);
    for (const table of IDENTITY_TABLES) {
      const [mode, rows, skipped, , file] = summary.get(table) ?? [];
      const expectedFile = path.join(outDir, `${CONNECTION}_${table}.csv`);
      assert.equal(mode, 'complete');
      assert.equal(file, expectedFile);
      assert.equal(skipped, '0');
      const stored = storeRows(simulator.sim, table);
      assert.equal(Number(rows), stored.length, table);
      assert.equal(readCsv(expectedFile).rows.length, stored.length, table);
    }
    assert.deepEqual(tempFilesIn(outDir), []);
  });

  test('export --tables --json: an incremental run of two tables', async () => {
    const added = await simulator.create('sys_user', { user_name: 'export.cli.new', first_name: 'New' });
    const result = jsonOf<ExportResult & { workflowId: string }>(
      await cli('export', '--connection', CONNECTION, '--tables', 'sys_user,sys_user_grmember', '--json'),
    );
    assert.ok(result.workflowId.startsWith(exportWorkflowIdPrefix(CONNECTION)));
    assert.equal(result.connection, CONNECTION);
    assert.deepEqual(
      result.tables.map((table) => [table.table, table.mode]),
      [
        ['sys_user', 'incremental'],
        ['sys_user_grmember', 'incremental'],
      ],
    );
    const users = readCsv(path.join(outDir, `${CONNECTION}_sys_user.csv`));
    assert.ok(
      users.rows.some((row) => row.sys_id === added.sys_id),
      'the user added since is exported',
    );
    assert.ok(users.rows.length < storeRows(simulator.sim, 'sys_user').length, 'only what changed');
    assert.equal(result.tables[0]?.file, path.join(outDir, `${CONNECTION}_sys_user.csv`));
  });

  test('export --detach --out, a second export refused while one runs, export watch follows it to its summary', async () => {
    const otherDir = path.join(outDir, 'other'); // a run may only choose a folder beneath OutputDirectory
    // ServiceNow answers 429 with Retry-After 3 s to the next three requests: the export waits them out (about
    // 9 s), so that it is still running while the CLI looks at it.
    const faults = await simulator.admin('/faults', {
      method: 'PUT',
      body: { burst429: 3, retryAfterSeconds: 3 },
    });
    assert.equal(faults.status, 200);
    try {
      const detached = jsonOf<{ workflowId: string; started: boolean }>(
        await cli(
          'export',
          '--connection',
          CONNECTION,
          '--tables',
          'sys_user',
          '--out',
          otherDir,
          '--detach',
          '--json',
        ),
      );
      assert.equal(detached.started, true);
      // Visibility lags a moment behind the start.
      await waitFor(
        'the detached export to be listed',
        async () =>
          (await runningExports(env.client, CONNECTION)).some(
            (run) => run.workflowId === detached.workflowId,
          ) || undefined,
        { intervalMs: 200 },
      );
      const second = await cli('export', '--connection', CONNECTION);
      exitsWith(
        second,
        1,
        new RegExp(`An export of Sim is already running: ${detached.workflowId.replace(/\./g, '\\.')}`),
      );
      assert.match(second.stderr, /snow-ticket export watch /);

      const watched = ok(await cli('export', 'watch', detached.workflowId, '--no-progress'));
      // Another folder: the table's cookie is for the default folder's file, so the export is complete.
      assert.match(watched.stdout, /^sys_user: done \(complete\), \d+ rows/m);
      assert.equal(
        readCsv(path.join(otherDir, `${CONNECTION}_sys_user.csv`)).rows.length,
        storeRows(simulator.sim, 'sys_user').length,
      );
      assert.equal(existsSync(path.join(otherDir, `${CONNECTION}_sys_user_group.csv`)), false);
      assert.match(
        watched.stdout,
        new RegExp(`^Export ${detached.workflowId.replace(/\./g, '\\.')} of Sim finished: 1 table, `, 'm'),
      );
    } finally {
      await simulator.admin('/faults', { method: 'PUT', body: { burst429: 0 } });
    }
    // An export that ended already: the summary at once.
    const [latest] = await collectExports(env, CONNECTION);
    assert.ok(latest !== undefined);
    const again = jsonOf<ExportResult & { workflowId: string }>(
      await cli('export', 'watch', latest, '--json'),
    );
    assert.equal(again.workflowId, latest);
  });

  test('a failed export exits 1 with the reason', async () => {
    // These settings define Sim only: the CLI warns, the worker (which does not know Other either) fails the run.
    const result = await cli('export', '--connection', 'Other', '--no-progress');
    exitsWith(result, 1, /Warning: connection Other is not defined under Connections/);
    assert.match(result.stderr, /^Export export:Other:\S+ failed: .*Connection 'Other' is not defined/m);
  });

  test('export schedule create, list, pause, unpause, trigger and delete, seen through the schedule API', async () => {
    await deleteScheduleQuietly();
    const scheduleDir = path.join(outDir, 'scheduled'); // beneath OutputDirectory, as runs require
    const scheduleId = exportScheduleId(CONNECTION);
    assert.equal(scheduleId, 'export-Sim');
    const created = ok(
      await cli(
        'export',
        'schedule',
        'create',
        '--connection',
        CONNECTION,
        '--every',
        '1h',
        '--complete',
        '--tables',
        'sys_user_group',
        '--out',
        scheduleDir,
      ),
    );
    assert.match(created.stdout, /^created {2}export-Sim$/m);
    assert.match(created.stdout, /^Runs +every 1h$/m);
    const handle = env.client.schedule.getHandle(scheduleId);
    const description = await handle.describe();
    assert.equal(description.action.type, 'startWorkflow');
    assert.equal(description.action.workflowType, 'exportWorkflow');
    assert.equal(description.action.taskQueue, TASK_QUEUE);
    assert.deepEqual(description.action.args, [
      { connection: CONNECTION, complete: true, tables: ['sys_user_group'], outputDirectory: scheduleDir },
    ]);
    assert.equal(description.policies.overlap, ScheduleOverlapPolicy.SKIP);
    assert.deepEqual(
      description.spec.intervals?.map((interval) => interval.every),
      [3_600_000],
    );
    assert.equal(description.state.paused, false);

    const duplicate = await cli('export', 'schedule', 'create', '--connection', CONNECTION, '--every', '2h');
    exitsWith(duplicate, 1, /Sim has an export schedule already \(export-Sim\): delete it first/);

    const listed = await waitFor(
      'the schedule to be listed',
      async () => {
        const listings = jsonOf<ExportScheduleListing[]>(await cli('export', 'schedule', 'list', '--json'));
        return listings.find((listing) => listing.scheduleId === scheduleId);
      },
      { intervalMs: 500 },
    );
    assert.equal(listed.connection, CONNECTION);
    assert.equal(listed.cadence, 'every 1h');
    assert.match(
      ok(await cli('export', 'schedule', 'list')).stdout,
      /^export-Sim +Sim +every 1h +(active|paused)/m,
    );

    assert.match(
      ok(await cli('export', 'schedule', 'pause', '--connection', CONNECTION, '--note', 'upgrade weekend'))
        .stdout,
      /^paused {3}export-Sim$/m,
    );
    let state = (await handle.describe()).state;
    assert.deepEqual([state.paused, state.note], [true, 'upgrade weekend']);
    await waitFor(
      'the listing to show the pause',
      async () => {
        const listings = jsonOf<ExportScheduleListing[]>(await cli('export', 'schedule', 'list', '--json'));
        return listings.find((listing) => listing.scheduleId === scheduleId && listing.paused);
      },
      { intervalMs: 500 },
    );

    assert.match(
      ok(await cli('export', 'schedule', 'unpause', '--connection', CONNECTION)).stdout,
      /^unpaused export-Sim {2}\(next run /m,
    );
    state = (await handle.describe()).state;
    assert.equal(state.paused, false);

    const triggered = ok(await cli('export', 'schedule', 'trigger', '--connection', CONNECTION));
    const runId = /started (export:Sim:schedule-\S+)/.exec(triggered.stdout)?.[1];
    assert.ok(runId !== undefined, triggered.stdout);
    const result = (await env.client.workflow.getHandle(runId).result()) as ExportResult;
    assert.deepEqual(
      result.tables.map((table) => table.table),
      ['sys_user_group'],
    );
    assert.equal(
      readCsv(path.join(scheduleDir, `${CONNECTION}_sys_user_group.csv`)).rows.length,
      storeRows(simulator.sim, 'sys_user_group').length,
    );

    assert.match(
      ok(await cli('export', 'schedule', 'delete', '--connection', CONNECTION)).stdout,
      /^deleted {2}export-Sim$/m,
    );
    await assert.rejects(handle.describe(), (error) => error instanceof ScheduleNotFoundError);
    exitsWith(
      await cli('export', 'schedule', 'pause', '--connection', CONNECTION),
      1,
      /^No export schedule for Sim \(schedule id export-Sim\)/,
    );
  });

  test('export schedule create --cron with a time zone, created paused', async () => {
    await deleteScheduleQuietly();
    const created = ok(
      await cli(
        'export',
        'schedule',
        'create',
        '--cron',
        '30 2 * * 1-5',
        '--time-zone',
        'Europe/Paris',
        '--complete',
        '--paused',
        '--json',
      ),
    );
    const listing = JSON.parse(created.stdout) as ExportScheduleListing;
    assert.equal(listing.cadence, 'cron "30 2 * * 1-5" (Europe/Paris)');
    assert.equal(listing.paused, true);
    const description = await env.client.schedule.getHandle('export-Sim').describe();
    assert.equal(description.spec.timezone, 'Europe/Paris');
    assert.equal(description.spec.calendars?.length, 1);
    assert.deepEqual(description.action.type === 'startWorkflow' && description.action.args, [
      { connection: CONNECTION, complete: true },
    ]);
    ok(await cli('export', 'schedule', 'delete'));
  });

  test('bad input exits 2 and starts nothing', async () => {
    await deleteScheduleQuietly();
    const before = await collectExports(env, CONNECTION);
    const cases: [string[], RegExp][] = [
      [['export', '--tables', 'sys_user,incident'], /incident: not exportable; the tables are sys_user, /],
      [['export', '--tables', 'sys_user,sys_user'], /sys_user named twice/],
      [['export', '--tables', ' , '], /expected table names separated by commas/],
      [['export', '--connection', '1st'], /expected a connection identifier/],
      [['export', 'surprise'], /too many arguments|unknown command/],
      [
        ['export', 'schedule', 'create'],
        /Give when the export runs: --every <duration> or --cron <expression>/,
      ],
      [['export', 'schedule', 'create', '--every', '1h', '--cron', '@daily'], /cannot be used with/],
      [['export', 'schedule', 'create', '--every', '10s'], /expected at least 1m/],
      [['export', 'schedule', 'create', '--every', 'often'], /expected a duration such as 10s/],
      [['export', 'schedule', 'create', '--cron', '* *'], /expected 5 to 7 cron fields/],
      [
        ['export', 'schedule', 'create', '--cron', '0 2 * * *', '--time-zone', 'Mars/Olympus'],
        /expected an IANA time zone/,
      ],
      [
        ['export', 'schedule', 'create', '--every', '1h', '--time-zone', 'UTC'],
        /--time-zone applies to --cron only/,
      ],
      [['export', 'schedule', 'create', '--cron', '99 * * * *'], /Temporal refused the schedule/],
      [['export', 'schedule', 'pause', '--note', ''], /must not be empty/],
    ];
    const results = await Promise.all(cases.map(([args]) => cli(...args)));
    for (const [i, [args, message]] of cases.entries()) {
      exitsWith(results[i] as CliResult, 2, message);
      assert.equal((results[i] as CliResult).stdout, '', args.join(' '));
    }
    await assert.rejects(
      env.client.schedule.getHandle('export-Sim').describe(),
      (error) => error instanceof ScheduleNotFoundError,
    );

    // Settings with two connections: the command cannot guess which one.
    const twoConnections = writeJson(dataDir, 'two-connections.json', {
      Connections: {
        A: { Server: simulator.sim.tableApiUrl, Login: 'a', Password: 'a' },
        B: { Server: simulator.sim.tableApiUrl, Login: 'b', Password: 'b' },
      },
      TicketConnector: {
        DataDirectory: dataDir,
        Temporal: { Address: env.address, Namespace: env.namespace ?? 'default', TaskQueue: TASK_QUEUE },
      },
    });
    exitsWith(
      await run(['--config', twoConnections, 'export']),
      2,
      /These settings define 2 connections \(A, B\): choose one with --connection/,
    );
    exitsWith(
      await cli('export', 'watch', 'export:Sim:no-such-run'),
      1,
      /No workflow export:Sim:no-such-run/,
    );
    assert.deepEqual(await collectExports(env, CONNECTION), before);
  });
});

/** Workflow ids of the connection's exports, newest first (visibility: may lag a moment behind). */
async function collectExports(env: TestWorkflowEnvironment, connection: string): Promise<string[]> {
  const ids: { id: string; start: number }[] = [];
  const query = `WorkflowType = 'exportWorkflow' AND WorkflowId STARTS_WITH '${exportWorkflowIdPrefix(connection)}'`;
  for await (const execution of env.client.workflow.list({ query })) {
    ids.push({ id: execution.workflowId, start: execution.startTime.getTime() });
  }
  return ids.sort((a, b) => b.start - a.start).map((entry) => entry.id);
}
