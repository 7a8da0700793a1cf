/**
 * How a table is read: complete or incremental, within which bounds (decided once, from the cookie, and kept by
 * every attempt that resumes the run), and the watermark the run leaves for the next one.
 */
import type { ExportMode, ExportResumeState } from '../contract/export';
import type { ExportCookie, RowVersion } from './cookies';
import type { CheckedInput } from './input';
import type { Progress } from './progress';
import type { ExportRuntime } from './runtime';
import { earlierOf, formatServiceNowDateTime, laterOf, shiftServiceNowDateTime } from './timestamps';

/** How this run reads the table; fixed by the first attempt and kept by the ones that resume it. */
export interface ReadPlan {
  readonly mode: ExportMode;
  readonly resume: Omit<ExportResumeState, 'maxUpdatedOn' | 'keysBytes'>;
  /** Incremental: row versions the previous export wrote in its overlap window (null: it kept none). */
  readonly previousRecent: readonly RowVersion[] | null;
}

/**
 * Fixes how the table is read, from the cookie:
 * - incremental, when a cookie exists for the same file, columns, filter and cell form (formulas neutralised or
 *   not): rows with `sys_updated_on` from
 *   `watermark - overlap` up to (not including) the time the read starts. Rows changed while it runs are left
 *   to the next run (their new time is past the bound), so none appears twice in one file.
 * - complete otherwise: every row, by sys_id.
 * Times from the worker's clock only bound the read; a skewed clock can delay a row to the next run or let it
 * appear twice, never lose it (complete exports: see `newWatermark`).
 */
export function decide(
  checked: CheckedInput,
  finalPath: string,
  cookie: ExportCookie | undefined,
  runtime: ExportRuntime,
): ReadPlan {
  const { input, fields, filterKey, neutralizeFormulas } = checked;
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
              : // Cookies written before the setting existed belong to files with cells as they were.
                (cookie.neutralizeFormulas ?? false) !== neutralizeFormulas
                ? 'NeutralizeFormulas changed since the last export'
                : undefined;
    if (cookie !== undefined && reason === undefined) {
      return {
        mode: 'incremental',
        resume: {
          readStartedAt,
          since: shiftServiceNowDateTime(cookie.watermark, -input.overlapMs),
          until: readStartedAt,
          previousWatermark: cookie.watermark,
          neutralizeFormulas,
        },
        previousRecent: cookie.recent,
      };
    }
    runtime.log.info('Exporting the table completely instead of incrementally', {
      table: input.table,
      reason,
    });
  }
  return { mode: 'complete', resume: { readStartedAt, neutralizeFormulas }, previousRecent: null };
}

/**
 * Rows older than this cannot fall in the final overlap window, whatever is read later: the final watermark is at
 * least `max(previous watermark, highest time so far)` (incremental) or `min(highest time so far, read start)`
 * (complete), and both only grow while the table is read.
 */
export function candidateThreshold(
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
export function newWatermark(plan: ReadPlan, progress: Progress): string {
  if (plan.mode === 'incremental') {
    return laterOf(plan.resume.previousWatermark, progress.maxUpdatedOn) ?? plan.resume.readStartedAt;
  }
  return earlierOf(progress.maxUpdatedOn, plan.resume.readStartedAt) ?? plan.resume.readStartedAt;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}
