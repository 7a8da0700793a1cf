/**
 * One table's export: pages read in keyset order, written as CSV to a temporary file beside the final one, with a
 * heartbeat after every page; resumed from the last heartbeat after a crash; renamed into place when whole; then
 * the table's cookie. See README, "Export", for the guarantees and their limits.
 */
import { constants } from 'node:fs';
import { copyFile, mkdir, open, rename, truncate, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import {
  readCookie,
  versionKey,
  writeCookie,
  type ExportCookie,
  type RowVersion,
} from '../../export/cookies';
import { csvHeader, csvRecords } from '../../export/csv';
import { exportFieldsProblems, isIdentityTable, parseExportFilter } from '../../export/fields';
import {
  cookieFileName,
  exportFileName,
  isTempFileOf,
  keysPathFor,
  lockFileName,
  randomSuffix,
  removeQuietly,
  removeStaleTempFiles,
  sizeOf,
  syncDirectory,
  tempPathFor,
  withLockFile,
} from '../../export/files';
import { collectRecent, keyLine } from '../../export/overlap';
import { InvalidExportInputError } from '../../export/plan';
import {
  earlierOf,
  formatServiceNowDateTime,
  isServiceNowDateTime,
  laterOf,
  shiftServiceNowDateTime,
} from '../../export/timestamps';
import type {
  ExportCursor,
  ExportedTable,
  ExportHeartbeat,
  ExportMode,
  ExportResumeState,
  ExportTableInput,
  IdentityTable,
} from '../../contract/export';
import type { ServiceNowClient } from '../../servicenow/client';
import { EncodedQuery, serialize, type ParsedQuery } from '../../servicenow/encodedQuery';
import { ServiceNowError } from '../../servicenow/errors';
import type { Page, Row } from '../../servicenow/tableApi';
import { fieldsOf } from '../../servicenow/tables';

/** What the export needs from its runtime (a Temporal activity context; tests may hand in their own). */
export interface ExportRuntime {
  /** Aborted when the activity is cancelled; passed to every ServiceNow call. */
  readonly signal: AbortSignal;
  heartbeat(details: ExportHeartbeat): void;
  /** Cancellation-aware sleep. */
  sleep(ms: number): Promise<void>;
  /** The last heartbeat details of the previous attempt, as recorded by the server (not yet validated). */
  readonly previous: unknown;
  /** True when the cancellation is a request to stop for good, not a worker shutdown or a lost attempt. */
  cancelRequested(): boolean;
  readonly log: {
    info(message: string, meta?: Record<string, unknown>): void;
    warn(message: string, meta?: Record<string, unknown>): void;
  };
  /** Decides the read bounds (see `decide`). */
  now(): Date;
  /** Heartbeats are repeated this often while a page is fetched or a rate limit waited out. */
  readonly keepAliveMs: number;
}

export interface TableExportDependencies {
  readonly client: ServiceNowClient;
  /** Absolute path of the folder of the table's cookie. */
  readonly cookieDirectory: string;
}

/** A 429 is waited out in the activity this many times in a row before the attempt fails (and Temporal retries). */
export const MAX_THROTTLED_PER_PAGE = 10;
/** A `Retry-After` longer than this is left to Temporal's retry (`nextRetryDelay`), not slept through. */
export const MAX_INLINE_WAIT_MS = 5 * 60_000;
/** Without `Retry-After` (a full request queue), waits grow from 1 s up to this. */
const MAX_BACKOFF_MS = 60_000;

/** Temporary files untouched this long belong to no running export. */
const STALE_TEMP_FILE_MS = 24 * 60 * 60_000;

/** Fields every read asks for besides the exported ones: the paging keys and the row version. */
const KEY_FIELDS = ['sys_id', 'sys_updated_on', 'sys_mod_count'] as const;

const cursorSchema = z.object({ sysId: z.string().min(1), updatedOn: z.string() });
const heartbeatSchema = z
  .object({
    table: z.string(),
    rows: z.number().int().nonnegative(),
    totalEstimate: z.number().optional(),
    cursor: cursorSchema.nullable(),
    bytes: z.number().int().positive(),
    tempFile: z.string(),
    mode: z.enum(['complete', 'incremental']),
    skippedAsDuplicates: z.number().int().nonnegative(),
    waitingUntil: z.string().optional(),
    resume: z.object({
      readStartedAt: z.string().refine(isServiceNowDateTime),
      since: z.string().refine(isServiceNowDateTime).optional(),
      until: z.string().refine(isServiceNowDateTime).optional(),
      previousWatermark: z.string().refine(isServiceNowDateTime).optional(),
      maxUpdatedOn: z.string().refine(isServiceNowDateTime).optional(),
      keysBytes: z.number().int().nonnegative(),
    }),
  })
  .refine(
    (beat) =>
      beat.mode === 'complete' || (beat.resume.since !== undefined && beat.resume.until !== undefined),
  );

/** How this run reads the table; fixed by the first attempt and kept by the ones that resume it. */
interface ReadPlan {
  readonly mode: ExportMode;
  readonly resume: Omit<ExportResumeState, 'maxUpdatedOn' | 'keysBytes'>;
  /** Incremental: row versions the previous export wrote in its overlap window (null: it kept none). */
  readonly previousRecent: readonly RowVersion[] | null;
}

interface Progress {
  rows: number;
  bytes: number;
  keysBytes: number;
  cursor: ExportCursor | null;
  skipped: number;
  maxUpdatedOn: string | undefined;
  totalEstimate: number | undefined;
  waitingUntil: string | undefined;
}

export async function exportTable(
  input: ExportTableInput,
  deps: TableExportDependencies,
  runtime: ExportRuntime,
): Promise<ExportedTable> {
  const { table, fields, filter, filterKey } = checkInput(input);
  const outputDirectory = path.resolve(input.outputDirectory);
  await mkdir(outputDirectory, { recursive: true });
  await mkdir(deps.cookieDirectory, { recursive: true });
  const finalPath = path.join(outputDirectory, exportFileName(input.connection, table));
  const cookiePath = path.join(deps.cookieDirectory, cookieFileName(input.connection, table));

  const cookieRead = await readCookie(cookiePath, input.connection, table);
  if (cookieRead.status === 'unusable') {
    runtime.log.warn('Ignoring an unusable export cookie', { file: cookiePath, reason: cookieRead.reason });
  }
  const cookie = cookieRead.status === 'found' ? cookieRead.cookie : undefined;

  const predecessor = predecessorOf(runtime.previous, finalPath);
  const resumed = await resumeFrom(runtime, input, finalPath, cookie);
  const plan = resumed?.plan ?? decide(input, finalPath, fields, filterKey, cookie, runtime);
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

function checkInput(input: ExportTableInput): {
  table: IdentityTable;
  fields: readonly string[];
  filter: ParsedQuery | undefined;
  filterKey: string | null;
} {
  const table: string = input.table;
  if (!isIdentityTable(table)) throw new InvalidExportInputError(`'${table}' is not an identity table`);
  const problems = exportFieldsProblems(table, input.fields);
  if (problems.length > 0) {
    throw new InvalidExportInputError(`Fields of ${table}: ${problems.join('; ')}`);
  }
  if (!Number.isFinite(input.overlapMs) || input.overlapMs < 0) {
    throw new InvalidExportInputError('overlapMs must be a duration in milliseconds');
  }
  if (!path.isAbsolute(input.outputDirectory)) {
    throw new InvalidExportInputError('outputDirectory must be an absolute path');
  }
  const filter = input.filter === undefined ? undefined : parseExportFilter(table, input.filter);
  return { table, fields: input.fields, filter, filterKey: filter === undefined ? null : serialize(filter) };
}

/**
 * Fixes how the table is read, from the cookie:
 * - incremental, when a cookie exists for the same file, columns and filter: rows with `sys_updated_on` from
 *   `watermark - overlap` up to (not including) the time the read starts. Rows changed while it runs are left
 *   to the next run (their new time is past the bound), so none appears twice in one file.
 * - complete otherwise: every row, by sys_id.
 * Times from the worker's clock only bound the read; a skewed clock can delay a row to the next run or let it
 * appear twice, never lose it (complete exports: see `newWatermark`).
 */
function decide(
  input: ExportTableInput,
  finalPath: string,
  fields: readonly string[],
  filterKey: string | null,
  cookie: ExportCookie | undefined,
  runtime: ExportRuntime,
): ReadPlan {
  const readStartedAt = formatServiceNowDateTime(runtime.now());
  if (input.mode === 'incremental') {
    const reason =
      cookie === undefined
        ? 'no cookie from an earlier export'
        : cookie.file !== finalPath
          ? 'the last export went to another file (an incremental file only makes sense after the previous one)'
          : !sameList(cookie.fields, fields)
            ? 'the columns changed since the last export'
            : cookie.filter !== filterKey
              ? 'the filter changed since the last export'
              : undefined;
    if (cookie !== undefined && reason === undefined) {
      return {
        mode: 'incremental',
        resume: {
          readStartedAt,
          since: shiftServiceNowDateTime(cookie.watermark, -input.overlapMs),
          until: readStartedAt,
          previousWatermark: cookie.watermark,
        },
        previousRecent: cookie.recent,
      };
    }
    runtime.log.info('Exporting the table completely instead of incrementally', {
      table: input.table,
      reason,
    });
  }
  return { mode: 'complete', resume: { readStartedAt }, previousRecent: null };
}

interface TempFiles {
  readonly csvPath: string;
  readonly keysPath: string;
  readonly csv: FileHandle;
  readonly keys: FileHandle;
  readonly headerBytes: number;
}

/** The temporary file the previous attempt of this activity wrote, named by its heartbeat. */
function predecessorOf(previous: unknown, finalPath: string): string | undefined {
  const tempFile = (previous as Partial<ExportHeartbeat> | null | undefined)?.tempFile;
  return typeof tempFile === 'string' && isTempFileOf(finalPath, tempFile) ? tempFile : undefined;
}

async function createTempFiles(finalPath: string, fields: readonly string[]): Promise<TempFiles> {
  const csvPath = tempPathFor(finalPath);
  const keysPath = keysPathFor(csvPath);
  const csv = await open(csvPath, 'wx+', 0o640);
  let keys: FileHandle;
  try {
    keys = await open(keysPath, 'wx+', 0o600);
  } catch (error) {
    await csv.close();
    await removeQuietly(csvPath);
    throw error;
  }
  const header = Buffer.from(csvHeader(fields), 'utf8');
  await writeAt(csv, header, 0);
  return { csvPath, keysPath, csv, keys, headerBytes: header.length };
}

/**
 * Continues the previous attempt when its heartbeat names a temporary file that still holds what it says
 * (`bytes`, `keysBytes`). The file is copied under a new name and cut to that length: rows written after the last
 * heartbeat the server recorded are dropped and read again, and an attempt that is still running somewhere (its
 * heartbeat timed out, but it has not noticed yet) keeps writing to its own file, never to ours.
 */
async function resumeFrom(
  runtime: ExportRuntime,
  input: ExportTableInput,
  finalPath: string,
  cookie: ExportCookie | undefined,
): Promise<{ plan: ReadPlan; temp: TempFiles; progress: Progress } | undefined> {
  if (runtime.previous === undefined || runtime.previous === null) return undefined;
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

interface ReadContext {
  readonly input: ExportTableInput;
  readonly table: IdentityTable;
  readonly fields: readonly string[];
  readonly filter: ParsedQuery | undefined;
  readonly plan: ReadPlan;
  readonly deps: TableExportDependencies;
  readonly runtime: ExportRuntime;
  readonly temp: TempFiles;
  readonly progress: Progress;
  readonly heartbeat: () => void;
}

/** Reads from the cursor to the end, one page at a time, waiting out rate limits in between. */
async function readPages(context: ReadContext): Promise<void> {
  const { runtime, progress } = context;
  const duplicates = new Set((context.plan.previousRecent ?? []).map((version) => versionKey(...version)));
  let throttled = 0;
  for (;;) {
    const rowsBefore = progress.rows + progress.skipped;
    try {
      let first = true;
      for await (const page of pagesFrom(context)) {
        if (first && page.totalCount !== undefined) progress.totalEstimate = rowsBefore + page.totalCount;
        first = false;
        await writePage(context, page, duplicates);
        throttled = 0;
        context.heartbeat();
      }
      return;
    } catch (error) {
      if (runtime.signal.aborted) throw error;
      const delayMs = throttleDelay(error, throttled);
      if (delayMs === undefined) throw error;
      throttled += 1;
      runtime.log.info('ServiceNow is rate limiting the export; waiting', {
        table: context.table,
        delayMs,
        attempt: throttled,
      });
      await waitOut(context, delayMs);
    }
  }
}

/** How long to wait before asking again after a 429, or undefined when the attempt should fail instead. */
function throttleDelay(error: unknown, throttled: number): number | undefined {
  if (!(error instanceof ServiceNowError) || error.status !== 429) return undefined;
  if (throttled >= MAX_THROTTLED_PER_PAGE) return undefined;
  const delayMs = error.retryAfterMs ?? Math.min(1000 * 2 ** throttled, MAX_BACKOFF_MS);
  return delayMs > MAX_INLINE_WAIT_MS ? undefined : delayMs;
}

/** Sleeps with heartbeats (so the wait is neither a timeout nor deaf to cancellation). */
async function waitOut(context: ReadContext, delayMs: number): Promise<void> {
  const { runtime, progress } = context;
  const until = Date.now() + delayMs;
  progress.waitingUntil = new Date(until).toISOString();
  context.heartbeat();
  try {
    for (let left = delayMs; left > 0; left = until - Date.now()) {
      await runtime.sleep(Math.min(left, runtime.keepAliveMs));
      context.heartbeat();
    }
  } finally {
    progress.waitingUntil = undefined;
  }
}

function pagesFrom(context: ReadContext): AsyncGenerator<Page> {
  const { deps, table, plan, progress, runtime } = context;
  const fields = [...new Set([...context.fields, ...KEY_FIELDS])];
  const cursor = progress.cursor;
  if (plan.mode === 'complete') {
    return deps.client.streamTable(table, {
      fields,
      filter: context.filter,
      afterSysId: cursor?.sysId,
      signal: runtime.signal,
    });
  }
  const { since, until } = plan.resume;
  if (since === undefined || until === undefined) throw new Error('An incremental read needs its bounds');
  const bounded = EncodedQuery.over(fieldsOf(table))
    .where('sys_updated_on', '<', until)
    .and(context.filter ?? { groups: [], orderBy: [] }, { ignoreOrder: true })
    .toParsed();
  return deps.client.streamChangedSince(table, since, {
    fields,
    filter: bounded,
    after: cursor === null ? undefined : cursor,
    signal: runtime.signal,
  });
}

/**
 * Appends a page to the temporary files, then moves the progress forward in one step, so that a heartbeat always
 * describes bytes that were written.
 */
async function writePage(context: ReadContext, page: Page, duplicates: ReadonlySet<string>): Promise<void> {
  const { temp, progress, plan, input } = context;
  const records: Row[] = [];
  const keys: string[] = [];
  let skipped = 0;
  let maxUpdatedOn = progress.maxUpdatedOn;
  let threshold = candidateThreshold(plan, maxUpdatedOn, input.overlapMs);
  for (const row of page.rows) {
    const sysId = row.sys_id ?? '';
    const updatedOn = row.sys_updated_on ?? '';
    const modCount = row.sys_mod_count ?? '';
    if (duplicates.size > 0 && duplicates.has(versionKey(sysId, updatedOn, modCount))) {
      skipped += 1;
      continue;
    }
    records.push(row);
    if (!isServiceNowDateTime(updatedOn)) continue;
    if (maxUpdatedOn === undefined || updatedOn > maxUpdatedOn) {
      maxUpdatedOn = updatedOn;
      threshold = candidateThreshold(plan, maxUpdatedOn, input.overlapMs);
    }
    if (threshold === undefined || updatedOn >= threshold) keys.push(keyLine([sysId, updatedOn, modCount]));
  }
  const last = page.rows.at(-1);
  const csv = Buffer.from(csvRecords(records, context.fields), 'utf8');
  const keyBytes = Buffer.from(keys.join(''), 'utf8');
  await writeAt(temp.csv, csv, progress.bytes);
  await writeAt(temp.keys, keyBytes, progress.keysBytes);
  progress.bytes += csv.length;
  progress.keysBytes += keyBytes.length;
  progress.rows += records.length;
  progress.skipped += skipped;
  progress.maxUpdatedOn = maxUpdatedOn;
  if (last !== undefined) {
    progress.cursor = { sysId: last.sys_id ?? '', updatedOn: last.sys_updated_on ?? '' };
  }
}

/**
 * Rows older than this cannot fall in the final overlap window, whatever is read later: the final watermark is at
 * least `max(previous watermark, highest time so far)` (incremental) or `min(highest time so far, read start)`
 * (complete), and both only grow while the table is read.
 */
function candidateThreshold(
  plan: ReadPlan,
  maxUpdatedOn: string | undefined,
  overlapMs: number,
): string | undefined {
  const floor =
    plan.mode === 'incremental'
      ? laterOf(plan.resume.previousWatermark, maxUpdatedOn)
      : maxUpdatedOn === undefined
        ? undefined
        : earlierOf(maxUpdatedOn, plan.resume.readStartedAt);
  return floor === undefined ? undefined : shiftServiceNowDateTime(floor, -overlapMs);
}

/**
 * The watermark the next incremental export starts from (minus the overlap).
 * - incremental: the highest `sys_updated_on` exported, never earlier than the previous watermark.
 * - complete: the same, but no later than the time the read started. A complete read goes by sys_id, so a row
 *   changed after the cursor passed it is in the file in its old version while a row read later may carry a newer
 *   time; capping at the read's start makes the next run read every change made during this one.
 */
function newWatermark(plan: ReadPlan, progress: Progress): string {
  if (plan.mode === 'incremental') {
    return laterOf(plan.resume.previousWatermark, progress.maxUpdatedOn) ?? plan.resume.readStartedAt;
  }
  return earlierOf(progress.maxUpdatedOn, plan.resume.readStartedAt) ?? plan.resume.readStartedAt;
}

function heartbeatOf(
  table: IdentityTable,
  plan: ReadPlan,
  tempFile: string,
  progress: Progress,
): ExportHeartbeat {
  return {
    table,
    rows: progress.rows,
    ...(progress.totalEstimate === undefined ? {} : { totalEstimate: progress.totalEstimate }),
    cursor: progress.cursor,
    bytes: progress.bytes,
    tempFile,
    mode: plan.mode,
    skippedAsDuplicates: progress.skipped,
    ...(progress.waitingUntil === undefined ? {} : { waitingUntil: progress.waitingUntil }),
    resume: {
      ...plan.resume,
      ...(progress.maxUpdatedOn === undefined ? {} : { maxUpdatedOn: progress.maxUpdatedOn }),
      keysBytes: progress.keysBytes,
    },
  };
}

/** Writes the whole buffer at `position` (positional writes: what is on disk never depends on a file offset). */
async function writeAt(handle: FileHandle, buffer: Buffer, position: number): Promise<void> {
  let written = 0;
  while (written < buffer.length) {
    const { bytesWritten } = await handle.write(buffer, written, buffer.length - written, position + written);
    written += bytesWritten;
  }
}

async function closeAll(temp: TempFiles): Promise<void> {
  await temp.csv.close().catch(() => undefined);
  await temp.keys.close().catch(() => undefined);
}

async function removeTempFiles(csvPath: string): Promise<void> {
  await removeQuietly(csvPath).catch(() => undefined);
  await removeQuietly(keysPathFor(csvPath)).catch(() => undefined);
}

function cancellationOf(signal: AbortSignal, error: unknown): unknown {
  return signal.reason instanceof Error ? signal.reason : error;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}
