/**
 * One table's export: pages read in keyset order, written as CSV to a temporary file beside the final one, with a
 * heartbeat after every page; resumed from the last heartbeat after a crash; renamed into place when whole; then
 * the table's cookie. See README, "Export", for the guarantees and their limits. Nothing here knows Temporal:
 * `src/activities/export/` hands in the runtime (heartbeats, cancellation) and maps errors to failures.
 */
import { mkdir, rename } from 'node:fs/promises';
import path from 'node:path';
import type { ExportedTable, ExportTableInput } from '../contract/export';
import { readCookie, writeCookie } from './cookies';
import {
  cookieFileName,
  exportFileName,
  lockFileName,
  removeQuietly,
  removeStaleTempFiles,
  syncDirectory,
  withLockFile,
} from './files';
import { prepareOutputDirectory } from './outputFolder';
import { checkInput } from './input';
import { collectRecent } from './overlap';
import { readPages } from './pages';
import { heartbeatOf, type Progress } from './progress';
import { decide, newWatermark } from './readPlan';
import { predecessorOf, resumeFrom } from './resume';
import type { ExportRuntime, TableExportDependencies } from './runtime';
import { closeAll, createTempFiles, removeTempFiles } from './tempFiles';
import { shiftServiceNowDateTime } from './timestamps';

/** Temporary files untouched this long belong to no running export. */
const STALE_TEMP_FILE_MS = 24 * 60 * 60_000;

export async function exportTable(
  input: ExportTableInput,
  deps: TableExportDependencies,
  runtime: ExportRuntime,
): Promise<ExportedTable> {
  const checked = checkInput(input);
  const { table, fields, filter, filterKey } = checked;
  const outputDirectory = await prepareOutputDirectory(deps.outputRoot, input.outputDirectory);
  await mkdir(deps.cookieDirectory, { recursive: true });
  const finalPath = path.join(outputDirectory, exportFileName(input.connection, table));
  const cookiePath = path.join(deps.cookieDirectory, cookieFileName(input.connection, table));

  const cookieRead = await readCookie(cookiePath, input.connection, table);
  if (cookieRead.status === 'unusable') {
    runtime.log.warn('Ignoring an unusable export cookie', { file: cookiePath, reason: cookieRead.reason });
  }
  const cookie = cookieRead.status === 'found' ? cookieRead.cookie : undefined;

  const predecessor = predecessorOf(runtime.previous, finalPath);
  const resumed = await resumeFrom(runtime, checked, finalPath, cookie);
  const plan = resumed?.plan ?? decide(checked, finalPath, cookie, runtime);
  const temp = resumed?.temp ?? (await createTempFiles(finalPath, fields));
  const progress: Progress = resumed?.progress ?? {
    rows: 0,
    bytes: temp.headerBytes,
    keysBytes: 0,
    cursor: null,
    skipped: 0,
    maxUpdatedOn: undefined,
    totalEstimate: undefined,
    waitingUntil: undefined,
  };

  const heartbeat = () => runtime.heartbeat(heartbeatOf(table, plan, temp.csvPath, progress));
  const keepAlive = setInterval(heartbeat, runtime.keepAliveMs);
  let finished = false;
  try {
    heartbeat();
    await readPages({ input, table, fields, filter, plan, deps, runtime, temp, progress, heartbeat });
    // Heartbeats go on until the end: reading the key file and waiting for the lock take time too.
    await temp.csv.sync();
    await closeAll(temp);

    const watermark = newWatermark(plan, progress);
    const recent = await collectRecent(
      temp.keysPath,
      progress.keysBytes,
      shiftServiceNowDateTime(watermark, -input.overlapMs),
      plan.mode === 'incremental' ? (plan.previousRecent ?? []) : [],
    );
    if (recent === undefined) {
      runtime.log.warn('Too many rows changed in the overlap window to remember them for de-duplication', {
        table,
        watermark,
      });
    }
    const result: ExportedTable = {
      table,
      file: finalPath,
      rows: progress.rows,
      mode: plan.mode,
      watermark,
      skippedAsDuplicates: progress.skipped,
    };
    // The file, then its cookie, under a lock: another export of the table never interleaves its own pair.
    await withLockFile(path.join(deps.cookieDirectory, lockFileName(input.connection, table)), async () => {
      await rename(temp.csvPath, finalPath);
      await syncDirectory(outputDirectory);
      finished = true;
      await writeCookie(cookiePath, {
        version: 1,
        connection: input.connection,
        table,
        watermark,
        overlapMs: input.overlapMs,
        fields,
        filter: filterKey,
        neutralizeFormulas: checked.neutralizeFormulas,
        recent: recent ?? null,
        mode: plan.mode,
        rows: progress.rows,
        file: finalPath,
        exportedAt: runtime.now().toISOString(),
      });
    });
    await removeQuietly(temp.keysPath);
    // The previous attempt's files, resumed or not: nothing will need them any more.
    if (predecessor !== undefined) await removeTempFiles(predecessor);
    // Files of attempts that nothing resumed (a crash on a machine that did not run the retry) go after a day.
    await removeStaleTempFiles(finalPath, STALE_TEMP_FILE_MS, []);
    return result;
  } catch (error) {
    clearInterval(keepAlive);
    await closeAll(temp);
    if (runtime.signal.aborted && !finished) {
      if (runtime.cancelRequested()) {
        // Cancelled for good: nothing will resume this file.
        await removeTempFiles(temp.csvPath);
        if (predecessor !== undefined) await removeTempFiles(predecessor);
      }
      throw cancellationOf(runtime.signal, error);
    }
    throw error;
  } finally {
    clearInterval(keepAlive);
  }
}

function cancellationOf(signal: AbortSignal, error: unknown): unknown {
  return signal.reason instanceof Error ? signal.reason : error;
}
