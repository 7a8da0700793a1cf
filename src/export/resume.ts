/**
 * Resuming a table after a crash, a timeout or a worker shutdown, from the heartbeat the previous attempt left.
 */
import { constants } from 'node:fs';
import { copyFile, open, truncate } from 'node:fs/promises';
import path from 'node:path';
import type { ExportHeartbeat } from '../contract/export';
import type { ExportCookie } from './cookies';
import type { CheckedInput } from './input';
import { isTempFileOf, keysPathFor, randomSuffix, sizeOf, tempPathFor } from './files';
import { heartbeatSchema, type Progress } from './progress';
import type { ReadPlan } from './readPlan';
import type { ExportRuntime } from './runtime';
import { removeTempFiles, type TempFiles } from './tempFiles';

/** The temporary file the previous attempt of this activity wrote, named by its heartbeat. */
export function predecessorOf(previous: unknown, finalPath: string): string | undefined {
  const tempFile = (previous as Partial<ExportHeartbeat> | null | undefined)?.tempFile;
  return typeof tempFile === 'string' && isTempFileOf(finalPath, tempFile) ? tempFile : undefined;
}

/**
 * Continues the previous attempt when its heartbeat names a temporary file that still holds what it says
 * (`bytes`, `keysBytes`). The file is copied under a new name and cut to that length: rows written after the last
 * heartbeat the server recorded are dropped and read again, and an attempt that is still running somewhere (its
 * heartbeat timed out, but it has not noticed yet) keeps writing to its own file, never to ours.
 */
export async function resumeFrom(
  runtime: ExportRuntime,
  checked: CheckedInput,
  finalPath: string,
  cookie: ExportCookie | undefined,
): Promise<{ plan: ReadPlan; temp: TempFiles; progress: Progress } | undefined> {
  if (runtime.previous === undefined || runtime.previous === null) return undefined;
  const { input } = checked;
  const parsed = heartbeatSchema.safeParse(runtime.previous);
  const why = (reason: string) => {
    runtime.log.warn('Starting the table over instead of resuming it', { table: input.table, reason });
    return undefined;
  };
  if (!parsed.success) return why('the last heartbeat is not an export heartbeat');
  const last = parsed.data;
  if (last.table !== input.table) return why('the last heartbeat is about another table');
  if (!isTempFileOf(finalPath, last.tempFile)) return why('the temporary file is not in the output folder');
  if (last.mode === 'incremental' && last.resume.previousWatermark !== cookie?.watermark) {
    return why('the cookie changed since the previous attempt started');
  }
  // Heartbeats of earlier releases describe files written before formulas were neutralised.
  if ((last.resume.neutralizeFormulas ?? false) !== checked.neutralizeFormulas) {
    return why('the previous attempt wrote its cells in another form (NeutralizeFormulas changed)');
  }
  const [csvSize, keysSize] = await Promise.all([sizeOf(last.tempFile), sizeOf(keysPathFor(last.tempFile))]);
  if (csvSize === undefined || keysSize === undefined) {
    return why('the temporary file is gone (was the previous attempt on another machine?)');
  }
  if (csvSize < last.bytes || keysSize < last.resume.keysBytes) {
    return why('the temporary file is shorter than the last heartbeat says');
  }
  const csvPath = tempPathFor(finalPath, randomSuffix());
  const keysPath = keysPathFor(csvPath);
  const copy = constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE;
  try {
    await copyFile(last.tempFile, csvPath, copy);
    await truncate(csvPath, last.bytes);
    await copyFile(keysPathFor(last.tempFile), keysPath, copy);
    await truncate(keysPath, last.resume.keysBytes);
  } catch (error) {
    await removeTempFiles(csvPath);
    throw error;
  }
  const csv = await open(csvPath, 'r+');
  const keys = await open(keysPath, 'r+').catch(async (error: unknown) => {
    await csv.close();
    throw error;
  });
  const { maxUpdatedOn, keysBytes, ...resume } = last.resume;
  runtime.log.info('Resuming the table from the last heartbeat', {
    table: input.table,
    rows: last.rows,
    attemptFile: path.basename(last.tempFile),
  });
  return {
    plan: {
      mode: last.mode,
      resume,
      previousRecent: last.mode === 'incremental' ? (cookie?.recent ?? null) : null,
    },
    temp: { csvPath, keysPath, csv, keys, headerBytes: 0 },
    progress: {
      rows: last.rows,
      bytes: last.bytes,
      keysBytes,
      cursor: last.cursor,
      skipped: last.skippedAsDuplicates,
      maxUpdatedOn,
      totalEstimate: last.totalEstimate,
      waitingUntil: undefined,
    },
  };
}
