/**
 * The export workflow on a real Temporal dev server, with the connector's worker and the simulator over HTTP:
 * results, the progress query, live heartbeats through describe(), and a worker shut down mid-table whose
 * successor resumes the table instead of starting it over.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, defaultPayloadConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { connectorActivities } from '../../../src/platform/adapters';
import { openLedger, type SqliteLedger } from '../../../src/assignments/sqliteLedger';
import type { SettingsFile } from '../../../src/config/schema';
import { DEFAULT_EXPORT_FIELDS } from '../../../src/export/fields';
import {
  exportActivityId,
  type ExportHeartbeat,
  type ExportResult,
  type ExportTableInput,
} from '../../../src/contract/export';
import { IDENTITY_TABLES } from '../../../src/servicenow/tables';
import type { exportWorkflow } from '../../../src/workflows';
import { exportProgressQuery } from '../../../src/workflows/export/messages';
import { tempDir } from '../../helpers/files';
import { connectorWorker } from '../../helpers/provisioning';
import { ManualClock, useSimulator } from '../../helpers/simulator';
import { createDevServerEnv, workflowBundle } from '../../helpers/temporal';
import { waitFor } from '../../helpers/waitFor';
import {
  assertSameRows,
  CONNECTION,
  exportTestSettings,
  readCsv,
  storeRows,
  tableReads,
  tempFilesIn,
} from '../../helpers/export';

describe('export workflow (dev server, connector worker, simulator over HTTP)', () => {
  const clock = new ManualClock('2024-06-01T08:00:00Z');
  const fixture = useSimulator({ now: clock.now });
  const dataDir = tempDir('snow-export-workflow-');
  let env: TestWorkflowEnvironment;
  let ledger: SqliteLedger;
  const running: { worker: Worker; done: Promise<void> }[] = [];
  let workflowCount = 0;

  before(async () => {
    env = await createDevServerEnv();
    ledger = openLedger(path.join(dataDir, 'assignments.sqlite'));
    const seeded = await fixture.admin('/seed', {
      method: 'POST',
      body: { users: 230, groups: 12, membershipsPerUser: 3, roles: 4 },
    });
    assert.equal(seeded.status, 200);
  });
  after(async () => {
    for (const { worker, done } of running) {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done.catch(() => undefined);
    }
    await ledger?.close();
    await env?.teardown();
  });

  function settingsFor(name: string, connection: Record<string, unknown> = {}): SettingsFile {
    return exportTestSettings(
      fixture.sim,
      dataDir,
      { OutputDirectory: `out-${name}`, CookieDirectory: `cookies-${name}` },
      connection,
    );
  }

  async function startWorker(taskQueue: string, settings: SettingsFile): Promise<Worker> {
    const worker = await connectorWorker(env, settings, taskQueue, ledger);
    running.push({ worker, done: worker.run() });
    return worker;
  }

  function start(taskQueue: string, input: Parameters<typeof exportWorkflow>[0]) {
    workflowCount += 1;
    return env.client.workflow.start<typeof exportWorkflow>('exportWorkflow', {
      taskQueue,
      workflowId: `export-${CONNECTION}-${workflowCount}-${Date.now()}`,
      args: [input],
    });
  }

  function assertFiles(result: ExportResult, outputDirectory: string): void {
    for (const table of result.tables) {
      assert.equal(table.file, path.join(outputDirectory, `${CONNECTION}_${table.table}.csv`));
      assertSameRows(
        readCsv(table.file),
        storeRows(fixture.sim, table.table),
        DEFAULT_EXPORT_FIELDS[table.table],
      );
    }
    assert.deepEqual(tempFilesIn(outputDirectory), []);
  }

  test('complete, then incremental: one activity per table, results, files and the progress query', async () => {
    const queue = 'export-runs';
    const output = path.join(dataDir, 'out-runs');
    await startWorker(queue, settingsFor('runs'));

    const first = await start(queue, { connection: CONNECTION, complete: true });
    const complete = await first.result();
    assert.equal(complete.connection, CONNECTION);
    assert.equal(complete.mode, 'complete');
    assert.deepEqual(
      complete.tables.map((table) => [table.table, table.mode, table.rows]),
      IDENTITY_TABLES.map((table) => [table, 'complete', storeRows(fixture.sim, table).length]),
    );
    assert.ok(complete.startedAt <= complete.finishedAt);
    assertFiles(complete, output);
    const progress = await first.query(exportProgressQuery);
    assert.equal(progress.phase, 'done');
    assert.deepEqual(
      progress.tables.map((table) => [table.table, table.state, table.activityId, table.result?.rows]),
      complete.tables.map((table) => [table.table, 'done', exportActivityId(table.table), table.rows]),
    );

    clock.advance(3600);
    const [user] = storeRows(fixture.sim, 'sys_user');
    const response = await fixture.call(`/api/now/table/sys_user/${user?.sys_id}`, {
      method: 'PATCH',
      body: { title: 'Changed between runs' },
    });
    assert.equal(response.status, 200);
    clock.advance(60);

    const incremental = await (await start(queue, { connection: CONNECTION })).result();
    assert.equal(incremental.mode, 'incremental');
    assert.deepEqual(
      incremental.tables.map((table) => [table.table, table.mode, table.rows]),
      IDENTITY_TABLES.map((table) => [table, 'incremental', table === 'sys_user' ? 1 : 0]),
    );
    assert.equal(
      readCsv(path.join(output, `${CONNECTION}_sys_user.csv`)).rows[0]?.title,
      'Changed between runs',
    );

    const elsewhere = path.join(output, 'chosen-folder');
    const chosen = await (
      await start(queue, { connection: CONNECTION, tables: ['sys_user_role'], outputDirectory: elsewhere })
    ).result();
    assert.deepEqual(
      chosen.tables.map((table) => [table.table, table.file]),
      [['sys_user_role', path.join(elsewhere, `${CONNECTION}_sys_user_role.csv`)]],
    );
    assert.equal(
      chosen.tables[0]?.mode,
      'complete',
      'an incremental file follows the previous one in its folder',
    );
  });

  test('bad input fails the run at once, without retries', async () => {
    const queue = 'export-bad-input';
    await startWorker(queue, settingsFor('bad'));
    for (const [input, type] of [
      [{ connection: CONNECTION, tables: ['incident'] }, 'InvalidExportInputError'],
      [{ connection: '../../etc' }, 'InvalidExportInput'],
      [{ connection: CONNECTION, outputDirectory: '../../../etc/cron.d' }, 'InvalidExportInputError'],
      [{ connection: 'Nowhere' }, 'UnknownConnection'],
    ] as const) {
      const handle = await start(queue, input);
      const error = await handle.result().then(
        () => assert.fail('the run should fail'),
        (failure: unknown) => failure,
      );
      assert.ok(error instanceof WorkflowFailedError, String(error));
      const cause = error.cause instanceof ApplicationFailure ? error.cause : error.cause?.cause;
      assert.ok(cause instanceof ApplicationFailure, String(error.cause));
      assert.equal(cause.type, type);
    }
  });

  test('a table that fails for good does not stop the others; the run fails at the end, naming it', async () => {
    const queue = 'export-partial';
    const output = path.join(dataDir, 'out-partial');
    const activities = connectorActivities({
      settings: settingsFor('partial'),
      version: 'test',
      assignments: ledger,
    });
    const worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue: queue,
      workflowBundle: await workflowBundle(),
      activities: {
        ...activities,
        async exportTable(input: ExportTableInput) {
          if (input.table === 'sys_user_group') {
            throw ApplicationFailure.nonRetryable('ACL denies reading sys_user_group', 'ServiceNow.http');
          }
          return activities.exportTable(input);
        },
      },
    });
    running.push({ worker, done: worker.run() });
    const handle = await start(queue, {
      connection: CONNECTION,
      tables: ['sys_user_role', 'sys_user_group', 'sys_user_has_role'],
      complete: true,
    });
    const error = await handle.result().then(
      () => assert.fail('the run should fail'),
      (failure: unknown) => failure,
    );
    assert.ok(
      error instanceof WorkflowFailedError && error.cause instanceof ApplicationFailure,
      String(error),
    );
    assert.equal(error.cause.type, 'ExportFailed');
    assert.match(error.cause.message, /sys_user_group \(ACL denies reading sys_user_group\)/);
    const [partial] = error.cause.details as [ExportResult];
    assert.deepEqual(
      partial.tables.map((table) => table.table),
      ['sys_user_role', 'sys_user_has_role'],
    );
    assertFiles(partial, output);
    const progress = await handle.query(exportProgressQuery);
    assert.equal(progress.phase, 'failed');
    assert.deepEqual(
      progress.tables.map((table) => [table.table, table.state]),
      [
        ['sys_user_role', 'done'],
        ['sys_user_group', 'failed'],
        ['sys_user_has_role', 'done'],
      ],
    );
    assert.match(progress.tables[1]?.error ?? '', /ACL denies/);
  });

  test('a worker shut down mid-table: the next worker resumes the table from its heartbeat', async () => {
    const queue = 'export-resume';
    const output = path.join(dataDir, 'out-resume');
    // Pages of 20 rows, each answered after 150 ms: the users take a few seconds.
    const settings = settingsFor('resume', { ResponseSizeLimit: '20' });
    const first = await startWorker(queue, settings);
    fixture.sim.instance.stats.reset();
    fixture.sim.instance.faults.update({ latencyMs: 150 });
    try {
      const handle = await start(queue, { connection: CONNECTION, tables: ['sys_user'], complete: true });
      // What a progress display reads: the pending activity of the table, its heartbeat details decoded.
      const live = await waitFor('a heartbeat of the running table', async () => {
        const pending = (await handle.describe()).raw.pendingActivities?.find(
          (activity) => activity.activityId === exportActivityId('sys_user'),
        );
        const [payload] = pending?.heartbeatDetails?.payloads ?? [];
        return payload === undefined
          ? undefined
          : defaultPayloadConverter.fromPayload<ExportHeartbeat>(payload);
      });
      assert.equal(live.table, 'sys_user');
      assert.equal(live.mode, 'complete');
      assert.ok(live.tempFile.startsWith(path.join(output, `.${CONNECTION}_sys_user.csv.`)), live.tempFile);
      const progress = await handle.query(exportProgressQuery);
      assert.deepEqual(
        progress.tables.map((table) => [table.table, table.state]),
        [['sys_user', 'running']],
      );
      // Let a few pages go by, then stop the worker: the attempt ends, its last heartbeat recorded.
      await waitFor('three pages written', () =>
        tempFilesIn(output).length > 0 && readCsvRows(output) >= 60 ? true : undefined,
      );
      first.shutdown();
      await running.find((entry) => entry.worker === first)?.done;
      assert.ok(tempFilesIn(output).length >= 2, 'the temporary file waits for the next attempt');

      await startWorker(queue, settings);
      const result = await handle.result();
      const [users] = result.tables;
      assert.equal(users?.rows, storeRows(fixture.sim, 'sys_user').length);
      assertFiles(result, output);

      const history = await handle.fetchHistory();
      const attempts = (history.events ?? [])
        .map((event) => event.activityTaskStartedEventAttributes?.attempt)
        .filter((attempt) => attempt !== undefined && attempt !== null);
      assert.equal(attempts.at(-1), 2, "the table's activity completed in its second attempt");
      const fromTheStart = tableReads(fixture.sim, 'sys_user').filter(
        (read) => !read.query.includes('sys_id>'),
      );
      assert.equal(fromTheStart.length, 1, 'only the first attempt read the first page');
    } finally {
      fixture.sim.instance.faults.update({ latencyMs: 0 });
    }
  });

  /** Rows in the temporary CSV file of the resume scenario (header excluded), to know the table is under way. */
  function readCsvRows(output: string): number {
    const temp = tempFilesIn(output).find((name) => !name.endsWith('.keys.tmp'));
    if (temp === undefined) return 0;
    const file = path.join(output, temp);
    return existsSync(file) ? Math.max(0, readCsvLines(file) - 1) : 0;
  }

  function readCsvLines(file: string): number {
    try {
      return readCsv(file).rows.length + 1;
    } catch {
      return 0; // a page is being written
    }
  }
});
