import { elapsedDuration } from '../../contract/durations';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  exportEnding,
  exportSnapshot,
  type ExportEnding,
  type ExportSnapshot,
} from '../../client/exportProgress';
import type { ExportRunHandle } from '../../client/exportRuns';
import { isWorkflowNotFound, messageOf, type Client } from '../../client/session';
import { exportActivityId, type ExportResult, type TableProgress } from '../../contract/export';
import { isIdentityTable } from '../../export/fields';
import { formatTable, plural, printJson } from '../cliOutput';
import { CliError } from '../errors';
import { progressView, type FollowOptions, type ProgressView } from './progressView';

/** Following an export run to its end: a look every half second, the progress view, then the summary. */

/** How often a followed export is looked at, and how long one look may take. */
const POLL_INTERVAL_MS = 500;
const POLL_TIMEOUT_MS = 5_000;
/** Looks in a row that may fail (server restarting, network) before the command gives up following. */
const MAX_FAILED_LOOKS = 60;
/** Without any answer to the progress query for this long, say that no worker seems to be running. */
const NO_WORKER_HINT_AFTER_MS = 10_000;
/** Exit code of a command interrupted by Ctrl-C (128 + SIGINT). */
const INTERRUPTED = 130;

/** Resolves when Ctrl-C is pressed (once), so that the command can say where the export goes on. */
function interruption(): { readonly signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  return { signal: controller.signal, dispose: () => process.off('SIGINT', onSigint) };
}

/**
 * Looks at the run every POLL_INTERVAL_MS (each look bounded by POLL_TIMEOUT_MS) until it ends, then returns how
 * it ended. Failed looks are reported and retried; MAX_FAILED_LOOKS in a row end the following, not the export.
 */
async function follow(
  client: Client,
  handle: ExportRunHandle,
  view: ProgressView,
  signal: AbortSignal,
): Promise<ExportEnding> {
  let failedLooks = 0;
  let answeredAt: number | undefined;
  const startedFollowing = Date.now();
  let hinted = false;
  let lastProgress: ExportSnapshot | undefined;
  let last: ExportSnapshot | undefined;
  for (;;) {
    let snapshot: ExportSnapshot | undefined;
    try {
      snapshot = await exportSnapshot(client, handle, { timeoutMs: POLL_TIMEOUT_MS });
      failedLooks = 0;
    } catch (error) {
      if (isWorkflowNotFound(error)) throw error;
      failedLooks++;
      if (failedLooks >= MAX_FAILED_LOOKS) {
        throw new CliError(
          `Lost sight of export ${handle.workflowId} (${messageOf(error)}); it goes on in Temporal: ` +
            `follow it again with snow-ticket export watch ${handle.workflowId}`,
        );
      }
      if (failedLooks === 1)
        view.note(`Cannot look at the export right now (${messageOf(error)}); retrying.`);
    }
    if (snapshot !== undefined) {
      if (snapshot.progress !== undefined) {
        answeredAt = Date.now();
        lastProgress = snapshot;
      }
      if (snapshot.status !== 'RUNNING') {
        last = snapshot;
        break;
      }
      view.update(snapshot);
      const silentSince = answeredAt ?? startedFollowing;
      if (!hinted && Date.now() - silentSince > NO_WORKER_HINT_AFTER_MS) {
        hinted = true;
        view.note(
          `No worker has answered for ${Math.round((Date.now() - silentSince) / 1000)} s ` +
            `(${snapshot.progressError ?? 'no answer'}): is a worker running on task queue ${snapshot.taskQueue}?`,
        );
      }
    }
    try {
      await sleep(POLL_INTERVAL_MS, undefined, { signal });
    } catch {
      throw new CliError(
        `Stopped following export ${handle.workflowId}; it goes on in Temporal. ` +
          `Follow it again with: snow-ticket export watch ${handle.workflowId}`,
        INTERRUPTED,
      );
    }
  }
  // The run has ended: the tables' final states come from its result (or its failure's partial result).
  const ending = await exportEnding(handle);
  if (ending.kind === 'completed') view.update(endSnapshot(last, lastProgress, ending.result, []));
  else if (ending.partial !== undefined) {
    view.update(endSnapshot(last, lastProgress, ending.partial.result, ending.partial.failed));
  }
  return ending;
}

/** A snapshot of a run that has ended, built from its result: done and failed tables, in the run's order. */
function endSnapshot(
  last: ExportSnapshot | undefined,
  lastProgress: ExportSnapshot | undefined,
  result: ExportResult,
  failed: readonly { table: string; error: string }[],
): ExportSnapshot {
  const done = new Map(result.tables.map((table) => [table.table as string, table]));
  const failures = new Map(failed.map((failure) => [failure.table, failure.error]));
  const order = [
    ...(lastProgress?.progress?.tables.map((table) => table.table as string) ?? []),
    ...done.keys(),
    ...failures.keys(),
  ].filter((table, index, all) => all.indexOf(table) === index);
  const tables: TableProgress[] = order.flatMap((table): TableProgress[] => {
    if (!isIdentityTable(table)) return [];
    const exported = done.get(table);
    const error = failures.get(table);
    const activityId = exportActivityId(table);
    if (exported !== undefined) return [{ table, state: 'done', activityId, result: exported }];
    if (error !== undefined) return [{ table, state: 'failed', activityId, error }];
    return [{ table, state: 'pending', activityId }];
  });
  return {
    status: last?.status ?? 'COMPLETED',
    startTime: last?.startTime ?? new Date(result.startedAt),
    progress: {
      connection: result.connection,
      mode: result.mode,
      phase: failed.length === 0 ? 'done' : 'failed',
      tables,
      startedAt: result.startedAt,
      finishedAt: result.finishedAt,
    },
    activities: new Map(),
    taskQueue: last?.taskQueue ?? '',
  };
}

function summaryOf(workflowId: string, result: ExportResult, ending = 'finished'): string {
  const rows = result.tables.reduce((sum, table) => sum + table.rows, 0);
  const elapsed = Date.parse(result.finishedAt) - Date.parse(result.startedAt);
  const head =
    `Export ${workflowId} of ${result.connection} ${ending}: ${plural(result.tables.length, 'table')}` +
    `${ending === 'finished' ? '' : ' exported'}, ` +
    `${plural(rows, 'row')}` +
    (Number.isFinite(elapsed) ? ` in ${elapsedDuration(elapsed)}` : '');
  const table = formatTable(
    ['table', 'mode', 'rows', 'duplicates skipped', 'watermark', 'file'],
    result.tables.map((exported) => [
      exported.table,
      exported.mode,
      String(exported.rows),
      String(exported.skippedAsDuplicates),
      exported.watermark ?? '',
      exported.file,
    ]),
  );
  return `${head}\n${table}`;
}

/** Follows the run to its end and prints the summary (or the result as JSON); a failed run is a CliError. */
export async function followAndReport(
  client: Client,
  handle: ExportRunHandle,
  options: FollowOptions,
): Promise<void> {
  const view = progressView(options);
  const interrupt = interruption();
  let ending: ExportEnding;
  try {
    ending = await follow(client, handle, view, interrupt.signal);
  } finally {
    view.stop();
    interrupt.dispose();
  }
  if (ending.kind === 'failed') {
    const { partial } = ending;
    if (options.json) {
      printJson({
        workflowId: handle.workflowId,
        failed: partial?.failed ?? [],
        error: ending.failure,
        ...(partial?.result ?? {}),
      });
    } else if (partial !== undefined && partial.result.tables.length > 0) {
      console.log(summaryOf(handle.workflowId, partial.result, 'failed'));
    }
    throw new CliError(`Export ${handle.workflowId} failed: ${ending.failure}`);
  }
  if (options.json) printJson({ workflowId: handle.workflowId, ...ending.result });
  else console.log(summaryOf(handle.workflowId, ending.result));
}
