/**
 * A workflow input may choose where a run's CSV files go only within the connection's configured output folder:
 * the exportTable activity refuses anything else (a traversal, another absolute path, a symbolic link leading
 * out) before writing a byte, with a non-retryable error naming the field. Real files, the simulator over HTTP.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import type { ExportTableInput } from '../../../src/contract/export';
import { tempDir } from '../../helpers/files';
import { useSimulator } from '../../helpers/simulator';
import {
  assertSameRows,
  CONNECTION,
  exportTableRunner,
  exportTestSettings,
  readCsv,
  storeRows,
} from '../../helpers/export';
import { DEFAULT_EXPORT_FIELDS } from '../../../src/export/fields';

describe('the output folder of an export run', () => {
  const fixture = useSimulator();
  const dataDir = tempDir('snow-export-folder-');
  const outside = tempDir('snow-export-outside-');
  const root = path.join(dataDir, 'exports');

  function runner() {
    return exportTableRunner(exportTestSettings(fixture.sim, dataDir, { OutputDirectory: root }));
  }

  function tableInput(outputDirectory: string): ExportTableInput {
    const [input] = runner().plan({ tables: ['sys_user_role'], complete: true }).tables;
    assert.ok(input !== undefined);
    return { ...input, outputDirectory };
  }

  function assertRefused(error: unknown, requested: string): void {
    assert.ok(error instanceof ApplicationFailure, String(error));
    assert.equal(error.type, 'InvalidExportInputError');
    assert.equal(error.nonRetryable, true, 'no retry can fix it');
    assert.ok(
      error.message.startsWith(`outputDirectory ${JSON.stringify(requested)} is outside`),
      error.message,
    );
    assert.match(error.message, new RegExp(`TicketConnector\\.Exports\\.${CONNECTION}\\.OutputDirectory`));
  }

  test('setup: a few roles to export', () => {
    fixture.sim.instance.seedDirectory({ users: 3, groups: 1, membershipsPerUser: 1, roles: 2 });
  });

  test('a traversal out of the configured folder is refused before anything is written', async () => {
    const requested = `${root}/../escaped`;
    const { error } = await runner().run(tableInput(requested));
    assertRefused(error, requested);
    assert.equal(existsSync(path.join(dataDir, 'escaped')), false, 'no folder was created');
  });

  test('an absolute folder elsewhere is refused, and nothing is written there', async () => {
    const requested = path.join(outside, 'cron.d');
    const { error } = await runner().run(tableInput(requested));
    assertRefused(error, requested);
    assert.deepEqual(readdirSync(outside), []);
  });

  test('a symbolic link inside the folder that leads out of it is refused', async () => {
    mkdirSync(root, { recursive: true });
    symlinkSync(outside, path.join(root, 'link'), 'dir');
    for (const requested of [path.join(root, 'link'), path.join(root, 'link', 'deeper')]) {
      const { error } = await runner().run(tableInput(requested));
      assertRefused(error, requested);
      assert.match((error as Error).message, new RegExp(`resolves to ${outside.replace(/[.\\]/g, '\\$&')}`));
    }
    assert.deepEqual(readdirSync(outside), [], 'nothing was written through the link');
  });

  test('the configured folder itself, or a folder beneath it, is written as before', async () => {
    for (const requested of [root, path.join(root, 'adhoc', 'today')]) {
      const { result, error } = await runner().run(tableInput(requested));
      assert.equal(error, undefined, String(error));
      assert.equal(result?.file, path.join(requested, `${CONNECTION}_sys_user_role.csv`));
      assertSameRows(
        readCsv(result.file),
        storeRows(fixture.sim, 'sys_user_role'),
        DEFAULT_EXPORT_FIELDS.sys_user_role,
      );
    }
  });
});
