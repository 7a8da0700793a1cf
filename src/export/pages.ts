/**
 * Reading a table page by page into its temporary files: keyset paging from the cursor, de-duplication of the
 * rows the previous run exported in the overlap, and ServiceNow's rate limits (429) waited out with heartbeats.
 */
import type { ExportTableInput, IdentityTable } from '../contract/export';
import { EncodedQuery, type ParsedQuery } from '../servicenow/encodedQuery';
import { ServiceNowError } from '../servicenow/errors';
import type { Page, Row } from '../servicenow/tableApi';
import { fieldsOf } from '../servicenow/tables';
import { versionKey } from './cookies';
import { csvRecords } from './csv';
import { keyLine } from './overlap';
import type { Progress } from './progress';
import { candidateThreshold, type ReadPlan } from './readPlan';
import type { ExportRuntime, TableExportDependencies } from './runtime';
import { writeAt, type TempFiles } from './tempFiles';
import { isServiceNowDateTime } from './timestamps';

/** A 429 is waited out in the activity this many times in a row before the attempt fails (and Temporal retries). */
export const MAX_THROTTLED_PER_PAGE = 10;
/** A `Retry-After` longer than this is left to Temporal's retry (`nextRetryDelay`), not slept through. */
export const MAX_INLINE_WAIT_MS = 5 * 60_000;
/** Without `Retry-After` (a full request queue), waits grow from 1 s up to this. */
const MAX_BACKOFF_MS = 60_000;

/** Fields every read asks for besides the exported ones: the paging keys and the row version. */
const KEY_FIELDS = ['sys_id', 'sys_updated_on', 'sys_mod_count'] as const;

export interface ReadContext {
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
export async function readPages(context: ReadContext): Promise<void> {
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
  const csv = Buffer.from(
    csvRecords(records, context.fields, { neutralizeFormulas: plan.resume.neutralizeFormulas === true }),
    'utf8',
  );
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
