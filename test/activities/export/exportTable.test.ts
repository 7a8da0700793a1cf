/**
 * The exportTable activity against the simulator over real HTTP, run in Temporal's own activity harness
 * (MockActivityEnvironment): heartbeats are observed, attempts are resumed from recorded heartbeat details, and
 * cancellations are delivered as a worker would deliver them.
 */
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ActivityCancellationDetails, ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createExportActivities } from '../../../src/activities/export';
import type { ExportCookie } from '../../../src/export/cookies';
import { DEFAULT_EXPORT_FIELDS } from '../../../src/export/fields';
import { ExportBusyError, withLockFile } from '../../../src/export/files';
import { planExport } from '../../../src/export/plan';
import type {
  ExportedTable,
  ExportHeartbeat,
  ExportTableInput,
  IdentityTable,
} from '../../../src/contract/export';
import { serviceNowClients } from '../../../src/platform/adapters';
import { ADMIN_USER_SYS_ID } from '../../../src/simulator/server';
import { IDENTITY_TABLES } from '../../../src/servicenow/tables';
import { tempDir } from '../../helpers/files';
import { ManualClock, useSimulator } from '../../helpers/simulator';
import {
  assertSameRows,
  collectingLogger,
  CONNECTION,
  exportTestSettings,
  readCsv,
  storeRows,
  tableReads,
  tempFilesIn,
  uniqueIds,
} from '../../helpers/export';

interface RunOptions {
  /** Heartbeat details of the previous attempt, as the server would hand them to the next one. */
  readonly previous?: ExportHeartbeat;
  readonly onHeartbeat?: (details: ExportHeartbeat, env: MockActivityEnvironment) => void;
}

interface RunOutcome {
  readonly heartbeats: ExportHeartbeat[];
  readonly result?: ExportedTable;
  readonly error?: unknown;
  readonly logs: string[];
}

describe('exportTable activity (simulator over HTTP, MockActivityEnvironment)', () => {
  const clock = new ManualClock('2024-05-01T10:00:00Z');
  const fixture = useSimulator({ now: clock.now });
  const dataDir = tempDir('snow-export-activity-');

  /** Every scenario has its own output and cookie folders. */
  function harness(name: string, exports: Record<string, unknown> = {}, now?: () => Date) {
    const settings = exportTestSettings(fixture.sim, dataDir, {
      OutputDirectory: `out-${name}`,
      CookieDirectory: `cookies-${name}`,
      ...exports,
    });
    const activities = createExportActivities({ settings, serviceNow: serviceNowClients(settings), now });
    const outputDirectory = path.join(dataDir, `out-${name}`);
    const cookieDirectory = path.join(dataDir, `cookies-${name}`);
    return {
      outputDirectory,
      csvPath: (table: IdentityTable) => path.join(outputDirectory, `${CONNECTION}_${table}.csv`),
      cookie: (table: IdentityTable) =>
        JSON.parse(
          readFileSync(path.join(cookieDirectory, `${CONNECTION}_${table}.json`), 'utf8'),
        ) as ExportCookie,
      input(table: IdentityTable, complete = false): ExportTableInput {
        const [input] = planExport(settings, { connection: CONNECTION, tables: [table], complete }).tables;
        assert.ok(input !== undefined);
        return input;
      },
      async run(input: ExportTableInput, options: RunOptions = {}): Promise<RunOutcome> {
        const { logger, entries } = collectingLogger();
        const env = new MockActivityEnvironment(
          {
            heartbeatDetails: options.previous,
            attempt: options.previous === undefined ? 1 : 2,
            heartbeatTimeoutMs: 30_000,
          },
          { logger },
        );
        const heartbeats: ExportHeartbeat[] = [];
        env.on('heartbeat', (details: ExportHeartbeat) => {
          heartbeats.push(details);
          options.onHeartbeat?.(details, env);
        });
        const logs = () => entries.map((entry) => `${entry.message} ${JSON.stringify(entry.meta ?? {})}`);
        try {
          return {
            heartbeats,
            result: await env.run((arg: ExportTableInput) => activities.exportTable(arg), input),
            logs: logs(),
          };
        } catch (error) {
          return { heartbeats, error, logs: logs() };
        }
      },
    };
  }

  function ok(outcome: RunOutcome): ExportedTable {
    if (outcome.result === undefined) throw outcome.error;
    return outcome.result;
  }

  async function patch(table: IdentityTable, sysId: string, values: Record<string, string>): Promise<void> {
    const response = await fixture.call(`/api/now/table/${table}/${sysId}`, {
      method: 'PATCH',
      body: values,
    });
    assert.equal(response.status, 200, await response.clone().text());
  }

  function setFaults(faults: Record<string, number>): void {
    fixture.sim.instance.faults.update(faults);
  }

  /** Heartbeats that followed a page (the first one, sent before any page, has no cursor). */
  const pageHeartbeats = (heartbeats: readonly ExportHeartbeat[]) =>
    heartbeats.filter((beat, index) => beat.cursor !== null && beat.rows !== heartbeats[index - 1]?.rows);

  const SPECIAL_USERS = {
    punctuation: {
      user_name: 'comma,user',
      first_name: 'Quote"d',
      last_name: 'Multi\nLine',
      title: 'CR\rOnly, and CRLF\r\nboth',
      department: 'Ünïcødé 😀 — ok',
      name: '=HYPERLINK("x")',
      email: ' leading.and.trailing@example.com ',
      manager: ADMIN_USER_SYS_ID,
    },
    injection: { user_name: 'x^NQactive=false', first_name: 'Literal', last_name: 'Caret', active: 'true' },
    inactiveOne: { user_name: 'inactive.one', first_name: 'In', last_name: 'Active', active: 'false' },
    inactiveTwo: { user_name: 'inactive.two', first_name: 'Not', last_name: 'Here', active: 'false' },
  };
  const special: Record<keyof typeof SPECIAL_USERS, string> = {
    punctuation: '',
    injection: '',
    inactiveOne: '',
    inactiveTwo: '',
  };

  test('setup: a seeded directory and users whose values need quoting', async () => {
    const response = await fixture.admin('/seed', {
      method: 'POST',
      body: { users: 160, groups: 9, membershipsPerUser: 2, roles: 3 },
    });
    assert.equal(response.status, 200, await response.text());
    for (const [key, values] of Object.entries(SPECIAL_USERS)) {
      special[key as keyof typeof SPECIAL_USERS] = (await fixture.create('sys_user', values)).sys_id ?? '';
    }
  });

  test('a complete export writes every row of the five tables once, RFC 4180, references as sys_ids', async () => {
    const h = harness('complete');
    for (const table of IDENTITY_TABLES) {
      const outcome = await h.run(h.input(table, true));
      const result = ok(outcome);
      const expected = storeRows(fixture.sim, table);
      assert.equal(result.file, h.csvPath(table));
      assert.equal(result.mode, 'complete');
      assert.equal(result.rows, expected.length);
      assert.equal(result.skippedAsDuplicates, 0);
      const csv = readCsv(result.file);
      assertSameRows(csv, expected, DEFAULT_EXPORT_FIELDS[table]);
      const newest = expected
        .map((row) => row.sys_updated_on ?? '')
        .sort()
        .at(-1);
      assert.equal(result.watermark, newest, `${table}: the watermark is the newest sys_updated_on`);
      assert.equal(h.cookie(table).watermark, newest);
      // One heartbeat per page of 50, each further than the last, with the total from X-Total-Count.
      const pages = pageHeartbeats(outcome.heartbeats);
      assert.equal(pages.length, Math.ceil(expected.length / 50), `${table}: a heartbeat per page`);
      assert.equal(pages.at(-1)?.rows, expected.length);
      assert.equal(pages[0]?.totalEstimate, expected.length);
    }
    assert.deepEqual(tempFilesIn(h.outputDirectory), [], 'no temporary file is left');

    const users = readCsv(h.csvPath('sys_user'));
    const punctuation = users.rows.find((row) => row.sys_id === special.punctuation);
    assert.deepEqual(
      Object.fromEntries(
        Object.keys(SPECIAL_USERS.punctuation).map((field) => [field, punctuation?.[field]]),
      ),
      SPECIAL_USERS.punctuation,
      'every value survives the round trip, the manager as a sys_id',
    );
    for (const quoted of ['"comma,user"', '"Quote""d"', '"Multi\nLine"', '"CR\rOnly, and CRLF\r\nboth"']) {
      assert.ok(users.text.includes(quoted), `${JSON.stringify(quoted)} is quoted`);
    }
    const userIds = new Set(storeRows(fixture.sim, 'sys_user').map((row) => row.sys_id));
    const groupIds = new Set(storeRows(fixture.sim, 'sys_user_group').map((row) => row.sys_id));
    const memberships = readCsv(h.csvPath('sys_user_grmember')).rows;
    assert.ok(memberships.length >= 320);
    for (const membership of memberships) {
      assert.ok(userIds.has(membership.user), 'user is the sys_id of a user');
      assert.ok(groupIds.has(membership.group), 'group is the sys_id of a group');
    }
  });

  test('an incremental export writes the rows changed since the last one, and only those', async () => {
    const h = harness('incremental');
    const first = ok(await h.run(h.input('sys_user')));
    assert.equal(first.mode, 'complete', 'no cookie yet: the first export is complete');

    clock.advance(3600);
    const before = storeRows(fixture.sim, 'sys_user');
    const [changedA, changedB] = before.filter((row) => row.user_name?.startsWith('sim.user'));
    await patch('sys_user', changedA?.sys_id ?? '', { title: 'Promoted' });
    await patch('sys_user', changedB?.sys_id ?? '', { active: 'false' });
    const added = await fixture.create('sys_user', {
      user_name: 'new.hire',
      first_name: 'New',
      last_name: 'Hire',
    });

    const second = ok(await h.run(h.input('sys_user')));
    assert.equal(second.mode, 'incremental');
    const csv = readCsv(second.file);
    assert.deepEqual(
      [...uniqueIds(csv.rows)].sort(),
      [changedA?.sys_id, changedB?.sys_id, added.sys_id].sort(),
      'exactly the changed and added rows',
    );
    const now = storeRows(fixture.sim, 'sys_user');
    assertSameRows(
      csv,
      now.filter((row) => [changedA?.sys_id, changedB?.sys_id, added.sys_id].includes(row.sys_id)),
      DEFAULT_EXPORT_FIELDS.sys_user,
    );
    // The read started 5 minutes before the old watermark: the unchanged rows there were met and left out.
    const since = '2024-05-01 09:55:00';
    const unchangedInWindow = now.filter(
      (row) => (row.sys_updated_on ?? '') >= since && (row.sys_updated_on ?? '') <= (first.watermark ?? ''),
    );
    assert.equal(second.skippedAsDuplicates, unchangedInWindow.length);
    assert.equal(second.watermark, '2024-05-01 11:00:00');

    const third = ok(await h.run(h.input('sys_user')));
    assert.equal(third.mode, 'incremental');
    assert.equal(third.rows, 0);
    assert.equal(readFileSync(third.file, 'utf8'), `${DEFAULT_EXPORT_FIELDS.sys_user.join(',')}\r\n`);
    assert.equal(third.watermark, second.watermark, 'the watermark never goes back');
    assert.equal(third.skippedAsDuplicates, 3, 'the three rows of the last run, met again in the overlap');
  });

  test('the overlap catches a row committed late, and de-duplicates only versions already exported', async () => {
    const h = harness('overlap');
    clock.advance(24 * 3600);
    ok(await h.run(h.input('sys_user_group')));
    const groups = storeRows(fixture.sim, 'sys_user_group');
    const [a, b] = groups;

    clock.advance(3600);
    await patch('sys_user_group', a?.sys_id ?? '', { description: 'first change' });
    await patch('sys_user_group', b?.sys_id ?? '', { description: 'only change' });
    const second = ok(await h.run(h.input('sys_user_group')));
    assert.equal(second.rows, 2);
    const watermark = second.watermark;

    // A transaction that started two minutes before the watermark commits only now...
    clock.advance(-120);
    const late = await fixture.create('sys_user_group', { name: 'Committed late' });
    // ...and `a` changes again within the same second as its exported version (same sys_updated_on).
    clock.advance(120);
    await patch('sys_user_group', a?.sys_id ?? '', { description: 'second change, same second' });
    clock.advance(600);

    const third = ok(await h.run(h.input('sys_user_group')));
    assert.equal(third.watermark, watermark);
    assert.deepEqual(
      readCsv(third.file)
        .rows.map((row) => [row.sys_id, row.description])
        .sort(),
      [
        [a?.sys_id, 'second change, same second'],
        [late.sys_id, ''],
      ].sort(),
      'the late row and the new version of a, not the unchanged b',
    );
    assert.equal(third.skippedAsDuplicates, 1, 'b, as exported last time');
  });

  test('a filter is applied as configured; an escaped ^ stays a literal and cannot widen the result', async () => {
    const literal = harness('literal', { Filters: ['sys_user#user_name=x^^NQactive=false'] });
    fixture.sim.instance.stats.reset();
    const result = ok(await literal.run(literal.input('sys_user', true)));
    assert.deepEqual(
      readCsv(result.file).rows.map((row) => row.user_name),
      ['x^NQactive=false'],
      'only the user with that literal name, although inactive users exist',
    );
    const reads = tableReads(fixture.sim, 'sys_user');
    assert.ok(reads.length > 0);
    for (const read of reads) {
      assert.ok(read.query.includes('user_name=x^^NQactive=false'), `escaped in ${read.query}`);
    }

    // An unescaped ^NQ is an OR group the operator wrote; the read's own bounds still apply to every group.
    const either = harness('either', { Filters: ['sys_user#user_name=nobody^NQactive=false'] });
    const complete = ok(await either.run(either.input('sys_user')));
    const inactive = () => storeRows(fixture.sim, 'sys_user').filter((row) => row.active === 'false');
    assertSameRows(readCsv(complete.file), inactive(), DEFAULT_EXPORT_FIELDS.sys_user);
    assert.ok(inactive().length >= 3);

    clock.advance(3600);
    await patch('sys_user', special.inactiveOne, { title: 'Changed while inactive' });
    await patch('sys_user', special.injection, { title: 'Changed but active' });
    const incremental = ok(await either.run(either.input('sys_user')));
    assert.equal(incremental.mode, 'incremental');
    assert.deepEqual(
      readCsv(incremental.file).rows.map((row) => row.sys_id),
      [special.inactiveOne],
      'neither unchanged inactive users nor changed active ones',
    );

    const bad = await literal.run({ ...literal.input('sys_user'), filter: 'user_nme=x^NQactive=false' });
    assert.ok(bad.error instanceof ApplicationFailure);
    assert.equal(bad.error.type, 'ExportFilterError');
    assert.equal(bad.error.nonRetryable, true);
    assert.match(bad.error.message, /user_nme/);
    const evaluated = await literal.run({
      ...literal.input('sys_user'),
      filter: 'name=javascript:gs.getUser()',
    });
    assert.ok(evaluated.error instanceof ApplicationFailure && evaluated.error.nonRetryable);
  });

  test('other columns or another filter make the next incremental export complete', async () => {
    const h = harness('changed-settings');
    ok(await h.run(h.input('sys_user_role')));
    const again = ok(await h.run(h.input('sys_user_role')));
    assert.equal(again.mode, 'incremental');
    const otherColumns = await h.run({ ...h.input('sys_user_role'), fields: ['sys_id', 'name'] });
    assert.equal(ok(otherColumns).mode, 'complete');
    assert.ok(otherColumns.logs.some((message) => /completely instead of incrementally/.test(message)));
    const filtered = ok(
      await h.run({ ...h.input('sys_user_role'), fields: ['sys_id', 'name'], filter: 'name=admin' }),
    );
    assert.equal(filtered.mode, 'complete');
    assert.deepEqual(
      readCsv(filtered.file).rows.map((row) => row.name),
      ['admin'],
    );
  });

  test('rows changed while a table is read: none twice in a file, none lost for the next run', async () => {
    // The worker's clock is the instance's here, so the read bounds fall among the rows' times.
    const h = harness('concurrent', {}, clock.now);
    clock.advance(24 * 3600);
    const bySysId = storeRows(fixture.sim, 'sys_user').sort((x, y) =>
      (x.sys_id ?? '').localeCompare(y.sys_id ?? ''),
    );
    const readEarly = bySysId[0]?.sys_id ?? '';
    const readLate = bySysId.at(-1)?.sys_id ?? '';
    let changedDuringComplete = false;
    const readStart = clock.now().toISOString().slice(0, 19).replace('T', ' ');
    const complete = ok(
      await h.run(h.input('sys_user', true), {
        onHeartbeat: (beat) => {
          if (changedDuringComplete || beat.cursor === null) return;
          changedDuringComplete = true;
          // A row the cursor has passed changes now, and one it has not yet reached changes ten minutes later.
          clock.advance(1);
          void patch('sys_user', readEarly, { title: 'changed behind the cursor' });
          clock.advance(600);
          void patch('sys_user', readLate, { title: 'changed ahead of the cursor' });
        },
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const completeRows = readCsv(complete.file).rows;
    uniqueIds(completeRows);
    assert.equal(completeRows.find((row) => row.sys_id === readEarly)?.title, '', 'read before it changed');
    assert.equal(completeRows.find((row) => row.sys_id === readLate)?.title, 'changed ahead of the cursor');
    assert.equal(complete.watermark, readStart, "capped at the read's start, not the newest row read");

    clock.advance(60);
    const next = ok(await h.run(h.input('sys_user')));
    const nextRows = readCsv(next.file).rows;
    assert.deepEqual(
      nextRows.map((row) => [row.sys_id, row.title]),
      [[readEarly, 'changed behind the cursor']],
      'the change the complete file missed comes next; the one it has is not repeated',
    );

    // Sixty rows change; while the incremental read is past its first page, one of them changes again.
    clock.advance(3600);
    const sixty = bySysId.slice(10, 70).map((row) => row.sys_id ?? '');
    for (const sysId of sixty) await patch('sys_user', sysId, { title: 'bulk change' });
    clock.advance(1);
    let again = '';
    const incremental = ok(
      await h.run(h.input('sys_user'), {
        onHeartbeat: (beat) => {
          if (again !== '' || beat.cursor === null) return;
          again = beat.cursor.sysId;
          clock.advance(1);
          void patch('sys_user', again, { title: 'changed again during the read' });
        },
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const incrementalRows = readCsv(incremental.file).rows;
    uniqueIds(incrementalRows);
    assert.deepEqual(incrementalRows.map((row) => row.sys_id).sort(), [...sixty].sort());
    assert.equal(incrementalRows.find((row) => row.sys_id === again)?.title, 'bulk change');
    // Rows changed in the second the read starts are left to the run after it, like those changed during it.
    clock.advance(60);
    const after = ok(await h.run(h.input('sys_user')));
    assert.deepEqual(
      readCsv(after.file).rows.map((row) => [row.sys_id, row.title]),
      [[again, 'changed again during the read']],
    );
  });

  test('a crash mid-table resumes after the last recorded heartbeat: no row twice, none missing', async () => {
    const h = harness('resume');
    mkdirSync(h.outputDirectory, { recursive: true });
    const previousFile = 'sys_id\r\nthe previous complete export\r\n';
    writeFileSync(h.csvPath('sys_user'), previousFile);

    const crashed = await h.run(h.input('sys_user', true), {
      onHeartbeat: (beat) => {
        // After three pages, the instance starts failing: the attempt ends with a retryable error.
        if (beat.rows >= 150) setFaults({ errorRate: 1 });
      },
    });
    setFaults({ errorRate: 0 });
    assert.ok(crashed.error instanceof ApplicationFailure, String(crashed.error));
    assert.equal(crashed.error.nonRetryable, false);
    assert.equal(readFileSync(h.csvPath('sys_user'), 'utf8'), previousFile, 'the previous file is untouched');
    assert.equal(
      tempFilesIn(h.outputDirectory).length,
      2,
      'the temporary CSV and key files stay for the retry',
    );

    // The server recorded the heartbeat after page two (heartbeats are throttled): page three is in the file
    // but not in the heartbeat, and a torn write follows it (longer than the rest of the table).
    const recorded = pageHeartbeats(crashed.heartbeats).find((beat) => beat.rows === 100);
    assert.ok(recorded !== undefined);
    appendFileSync(recorded.tempFile, `torn,"row${'x'.repeat(100_000)}`);

    fixture.sim.instance.stats.reset();
    const resumed = await h.run(h.input('sys_user', true), { previous: recorded });
    const result = ok(resumed);
    assert.ok(resumed.logs.some((message) => /Resuming the table/.test(message)));
    assert.equal(resumed.heartbeats[0]?.rows, 100, 'the retry starts where the heartbeat says');
    const reads = tableReads(fixture.sim, 'sys_user');
    assert.ok(reads[0]?.query.startsWith(`sys_id>${recorded.cursor?.sysId}`), reads[0]?.query);
    assert.ok(
      reads.every((read) => read.query.includes('sys_id>')),
      'no read starts the table over',
    );
    const expected = storeRows(fixture.sim, 'sys_user');
    assert.equal(result.rows, expected.length);
    assertSameRows(readCsv(h.csvPath('sys_user')), expected, DEFAULT_EXPORT_FIELDS.sys_user);
    assert.deepEqual(tempFilesIn(h.outputDirectory), [], "the old attempt's files are removed too");
  });

  test('an incremental export resumes too, and remembers the overlap rows of both attempts', async () => {
    const h = harness('resume-incremental');
    ok(await h.run(h.input('sys_user_grmember')));
    clock.advance(24 * 3600);
    const changed = storeRows(fixture.sim, 'sys_user_grmember').slice(0, 120);
    const groups = storeRows(fixture.sim, 'sys_user_group').map((group) => group.sys_id ?? '');
    for (const [index, membership] of changed.entries()) {
      if (index % 10 === 0) clock.advance(7);
      const group = groups.find((candidate) => candidate !== membership.group) ?? '';
      await patch('sys_user_grmember', membership.sys_id ?? '', { group });
    }

    const crashed = await h.run(h.input('sys_user_grmember'), {
      onHeartbeat: (beat) => {
        if (beat.rows >= 80) setFaults({ errorRate: 1 });
      },
    });
    setFaults({ errorRate: 0 });
    assert.ok(crashed.error instanceof ApplicationFailure);
    // The recorded heartbeat is an earlier page than the one the attempt ended on.
    const recorded = pageHeartbeats(crashed.heartbeats).find((beat) => beat.rows > 0);
    assert.ok(recorded?.mode === 'incremental' && recorded.cursor !== null && recorded.rows < 80);

    fixture.sim.instance.stats.reset();
    const result = ok(await h.run(h.input('sys_user_grmember'), { previous: recorded }));
    assert.equal(result.mode, 'incremental');
    const reads = tableReads(fixture.sim, 'sys_user_grmember');
    assert.ok(
      reads[0]?.query.includes(`sys_updated_on=${recorded.cursor.updatedOn}^sys_id>${recorded.cursor.sysId}`),
      reads[0]?.query,
    );
    const wanted = new Set(changed.map((row) => row.sys_id));
    const current = storeRows(fixture.sim, 'sys_user_grmember').filter((row) => wanted.has(row.sys_id));
    assertSameRows(readCsv(result.file), current, DEFAULT_EXPORT_FIELDS.sys_user_grmember);
    assert.equal(h.cookie('sys_user_grmember').recent?.length, 120, 'every row of the window is remembered');

    const quiet = ok(await h.run(h.input('sys_user_grmember')));
    assert.equal(quiet.rows, 0);
    assert.equal(quiet.skippedAsDuplicates, 120, 'rows written by either attempt are known next time');
  });

  test('a temporary file that is gone, shorter than the heartbeat, or elsewhere is not resumed', async () => {
    const h = harness('not-resumable');
    const first = await h.run(h.input('sys_user_role', true), {
      onHeartbeat: (beat) => {
        if (beat.cursor !== null) setFaults({ errorRate: 1 });
      },
    });
    setFaults({ errorRate: 0 });
    const recorded = first.heartbeats.find((beat) => beat.cursor !== null);
    assert.ok(recorded !== undefined && first.error !== undefined);
    const expected = storeRows(fixture.sim, 'sys_user_role');
    const cases: [ExportHeartbeat, RegExp][] = [
      [{ ...recorded, bytes: recorded.bytes + 10_000 }, /shorter than the last heartbeat/],
      [
        { ...recorded, tempFile: path.join(dataDir, path.basename(recorded.tempFile)) },
        /not in the output folder/,
      ],
      [
        { ...recorded, tempFile: recorded.tempFile.replace(/[0-9a-f]{12}\.tmp$/, '000000000000.tmp') },
        /is gone/,
      ],
      [{ table: 'sys_user_role' } as unknown as ExportHeartbeat, /not an export heartbeat/],
    ];
    for (const [previous, reason] of cases) {
      const outcome = await h.run(h.input('sys_user_role', true), { previous });
      assert.ok(
        outcome.logs.some((message) => /Starting the table over/.test(message) && reason.test(message)),
        `${String(reason)}: ${outcome.logs.join(' | ')}`,
      );
      assertSameRows(readCsv(ok(outcome).file), expected, DEFAULT_EXPORT_FIELDS.sys_user_role);
    }
    assert.deepEqual(tempFilesIn(h.outputDirectory), []);
  });

  test('cancelling removes the temporary file; a worker shutdown keeps it for the retry', async () => {
    const h = harness('cancel');
    mkdirSync(h.outputDirectory, { recursive: true });
    writeFileSync(h.csvPath('sys_user'), 'previous\r\n');

    const cancelled = await h.run(h.input('sys_user', true), {
      onHeartbeat: (beat, env) => {
        if (beat.rows >= 50) env.cancel();
      },
    });
    assert.ok(cancelled.error instanceof CancelledFailure, String(cancelled.error));
    assert.deepEqual(tempFilesIn(h.outputDirectory), [], 'nothing left behind');
    assert.equal(readFileSync(h.csvPath('sys_user'), 'utf8'), 'previous\r\n');

    const shutdown = await h.run(h.input('sys_user', true), {
      onHeartbeat: (beat, env) => {
        if (beat.rows >= 50)
          env.cancel('WORKER_SHUTDOWN', new ActivityCancellationDetails({ workerShutdown: true }));
      },
    });
    assert.ok(shutdown.error instanceof CancelledFailure);
    const last = shutdown.heartbeats.at(-1);
    assert.ok(last !== undefined && existsSync(last.tempFile), 'the temporary file waits for the retry');
    assert.equal(readFileSync(h.csvPath('sys_user'), 'utf8'), 'previous\r\n');
    const resumed = ok(await h.run(h.input('sys_user', true), { previous: last }));
    assertSameRows(readCsv(resumed.file), storeRows(fixture.sim, 'sys_user'), DEFAULT_EXPORT_FIELDS.sys_user);
  });

  test("two exports of one table at once: both finish, neither removes the other one's files", async () => {
    const h = harness('concurrent-runs');
    setFaults({ latencyMs: 20 });
    try {
      const [a, b] = await Promise.all([h.run(h.input('sys_user', true)), h.run(h.input('sys_user', true))]);
      ok(a);
      ok(b);
    } finally {
      setFaults({ latencyMs: 0 });
    }
    assertSameRows(
      readCsv(h.csvPath('sys_user')),
      storeRows(fixture.sim, 'sys_user'),
      DEFAULT_EXPORT_FIELDS.sys_user,
    );
    assert.equal(h.cookie('sys_user').rows, storeRows(fixture.sim, 'sys_user').length);
    assert.deepEqual(tempFilesIn(h.outputDirectory), []);
  });

  test('rate limits (429) are waited out inside the attempt, as long as they stay reasonable', async () => {
    const h = harness('throttled');
    const count429 = () => fixture.sim.instance.stats.counts().byStatus['429'] ?? 0;

    const before = count429();
    const started = Date.now();
    setFaults({ burst429: 3, retryAfterSeconds: 1 });
    const outcome = await h.run(h.input('sys_user', true));
    const result = ok(outcome);
    assert.equal(count429() - before, 3, 'three requests were refused');
    assert.ok(Date.now() - started >= 2_900, 'Retry-After was honoured');
    assert.ok(
      outcome.heartbeats.some((beat) => beat.waitingUntil !== undefined),
      'the wait shows in heartbeats',
    );
    assertSameRows(readCsv(result.file), storeRows(fixture.sim, 'sys_user'), DEFAULT_EXPORT_FIELDS.sys_user);

    // Ten refusals in a row for one page: the attempt fails and Temporal's retry takes over.
    setFaults({ burst429: 11, retryAfterSeconds: 0 });
    const persistent = await h.run(h.input('sys_user', true));
    setFaults({ burst429: 0, retryAfterSeconds: 1 });
    assert.ok(persistent.error instanceof ApplicationFailure, String(persistent.error));
    assert.equal(persistent.error.nonRetryable, false);
    assert.match(persistent.error.message, /HTTP 429/);

    // A Retry-After of an hour is not slept through in the attempt: Temporal retries after it.
    setFaults({ burst429: 1, retryAfterSeconds: 3600 });
    const long = await h.run(h.input('sys_user', true));
    setFaults({ burst429: 0, retryAfterSeconds: 1 });
    assert.ok(long.error instanceof ApplicationFailure);
    assert.equal(long.error.nextRetryDelay, 3_600_000);
  });

  test('an unusable cookie is reported and the table is exported completely', async () => {
    const h = harness('bad-cookie');
    ok(await h.run(h.input('sys_user_role')));
    const cookieFile = path.join(dataDir, 'cookies-bad-cookie', `${CONNECTION}_sys_user_role.json`);
    writeFileSync(cookieFile, '{"version": 1, "watermark": "yesterday"');
    const outcome = await h.run(h.input('sys_user_role'));
    assert.equal(ok(outcome).mode, 'complete');
    assert.ok(outcome.logs.some((message) => /unusable export cookie/.test(message)));
  });
});

describe('export file helpers', () => {
  const dir = tempDir('snow-export-files-');

  test('a lock file serialises commits; a stale one is taken over, a live one makes the caller retry later', async () => {
    const lock = path.join(dir, 'Sim_sys_user.lock');
    const order: string[] = [];
    await Promise.all([
      withLockFile(lock, async () => {
        order.push('first in');
        await new Promise((resolve) => setTimeout(resolve, 100));
        order.push('first out');
      }),
      new Promise((resolve) => setTimeout(resolve, 10)).then(() =>
        withLockFile(lock, async () => {
          order.push('second');
        }),
      ),
    ]);
    assert.deepEqual(order, ['first in', 'first out', 'second']);
    assert.equal(existsSync(lock), false);

    writeFileSync(lock, 'held by a live export');
    await assert.rejects(
      withLockFile(lock, async () => undefined, { waitMs: 200 }),
      (error: unknown) => error instanceof ExportBusyError && error.retryable,
    );
    const old = new Date(Date.now() - 120_000);
    utimesSync(lock, old, old);
    assert.equal(await withLockFile(lock, async () => 'taken over', { waitMs: 200 }), 'taken over');
  });
});
