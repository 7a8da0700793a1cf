import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ApplicationFailure,
  ScheduleNotFoundError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  isGrpcServiceError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { MultiBar, Format, type Options as BarOptions, type Params as BarParams } from 'cli-progress';
import { InvalidArgumentError, Option, type Command } from 'commander';
import {
  createExportSchedule,
  deleteExportSchedule,
  describeExportSchedule,
  exportScheduleId,
  exportSnapshot,
  listExportSchedules,
  pauseExportSchedule,
  runningExports,
  ScheduleAlreadyRunning,
  startExport,
  tableActivity,
  triggerExportSchedule,
  unpauseExportSchedule,
  WorkflowExecutionAlreadyStartedError,
  type ExportCadence,
  type ExportScheduleListing,
  type ExportSnapshot,
} from '../client/export';
import { messageOf } from '../client/session';
import { EXPORT_WORKFLOW_TYPE } from '../contract/names';
import type { SettingsFile } from '../config/schema';
import { isIdentityTable } from '../export/fields';
import {
  exportActivityId,
  type ExportInput,
  type ExportResult,
  type TableExportState,
  type TableProgress,
} from '../contract/export';
import { IDENTITY_TABLES } from '../servicenow/tables';
import { SIMULATOR_CONNECTION_ID } from '../stack/localSimulator';
import {
  connectionId,
  duration,
  formatFields,
  formatTable,
  nonEmpty,
  plural,
  printJson,
  usageErrorsExit2,
  printListing,
} from './cliOutput';
import { CliError } from './errors';
import { loadCliConfig } from './loadCliConfig';
import { withTemporal } from './temporalClient';

/**
 * `snow-ticket export`: runs the CSV export of a connection as an `exportWorkflow` and follows it (a progress bar
 * per table from the activities' heartbeats, then a summary); `export watch` follows a run started elsewhere;
 * `export schedule ...` manages the connection's Temporal Schedule.
 */

/** How often a followed export is looked at, and how long one look may take. */
const POLL_INTERVAL_MS = 500;
const POLL_TIMEOUT_MS = 5_000;
/** Looks in a row that may fail (server restarting, network) before the command gives up following. */
const MAX_FAILED_LOOKS = 60;
/** Plain progress lines: at most one per running table this often. */
const PLAIN_LINE_INTERVAL_MS = 5_000;
/** Without any answer to the progress query for this long, say that no worker seems to be running. */
const NO_WORKER_HINT_AFTER_MS = 10_000;
const MIN_SCHEDULE_INTERVAL_MS = 60_000;
/** Exit code of a command interrupted by Ctrl-C (128 + SIGINT). */
const INTERRUPTED = 130;

// ---------------------------------------------------------------------------------------------------------
// Option parsers
// ---------------------------------------------------------------------------------------------------------

/** `--tables a,b`: identity tables, each once, in the order given. */
export function tableList(value: string): string[] {
  const tables = value
    .split(',')
    .map((table) => table.trim())
    .filter((table) => table !== '');
  if (tables.length === 0) throw new InvalidArgumentError('expected table names separated by commas');
  const unknown = tables.filter((table) => !isIdentityTable(table));
  if (unknown.length > 0) {
    throw new InvalidArgumentError(
      `${unknown.join(', ')}: not exportable; the tables are ${IDENTITY_TABLES.join(', ')}`,
    );
  }
  const twice = tables.filter((table, index) => tables.indexOf(table) !== index);
  if (twice.length > 0) throw new InvalidArgumentError(`${[...new Set(twice)].join(', ')} named twice`);
  return tables;
}

function scheduleInterval(value: string): number {
  const ms = duration(value);
  if (ms < MIN_SCHEDULE_INTERVAL_MS) throw new InvalidArgumentError('expected at least 1m');
  return ms;
}

/** Five to seven cron fields, or a shorthand (`@daily`, `@every 2h`); the server checks the rest. */
function cronExpression(value: string): string {
  const cron = value.trim();
  const fields = cron.split(/\s+/).length;
  const shorthand = /^@(yearly|annually|monthly|weekly|daily|midnight|hourly)$|^@every\s+\S+$/.test(cron);
  if (!shorthand && (fields < 5 || fields > 7)) {
    throw new InvalidArgumentError(
      'expected 5 to 7 cron fields (minute hour day-of-month month day-of-week), e.g. "0 2 * * *", or @daily',
    );
  }
  return cron;
}

function timeZone(value: string): string {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
  } catch {
    throw new InvalidArgumentError('expected an IANA time zone, e.g. Europe/Paris or UTC');
  }
  return value;
}

function note(value: string): string {
  const text = nonEmpty(value);
  if (text.length > 500) throw new InvalidArgumentError('at most 500 characters');
  return text;
}

// ---------------------------------------------------------------------------------------------------------
// Shared
// ---------------------------------------------------------------------------------------------------------

/**
 * `--connection`, else the only connection of the settings, else the local stack's simulator (`npm start` gives
 * the worker a connection named Simulator when the settings define none).
 */
function resolveConnection(settings: SettingsFile, given: string | undefined): string {
  const defined = Object.keys(settings.Connections);
  if (given !== undefined) {
    if (defined.length > 0 && !defined.includes(given)) {
      console.error(
        `Warning: connection ${given} is not defined under Connections in these settings (${defined.join(', ')}); ` +
          "the worker's settings must define it, or the export fails.",
      );
    }
    return given;
  }
  if (defined.length === 1) return defined[0] as string;
  if (defined.length === 0) return SIMULATOR_CONNECTION_ID;
  throw new CliError(
    `These settings define ${defined.length} connections (${defined.join(', ')}): choose one with --connection`,
    2,
  );
}

interface InputOptions {
  connection?: string;
  complete?: boolean;
  tables?: string[];
  out?: string;
}

function exportInput(connection: string, options: InputOptions): ExportInput {
  return {
    connection,
    ...(options.complete === true ? { complete: true } : {}),
    ...(options.tables === undefined ? {} : { tables: options.tables }),
    ...(options.out === undefined ? {} : { outputDirectory: path.resolve(options.out) }),
  };
}

function inputOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        '--connection <id>',
        'ServiceNow connection to export (default: the only one in the settings)',
      ).argParser(connectionId),
    )
    .option(
      '--complete',
      'export every row, ignoring the watermarks of earlier exports (default: Exports.Complete, else incremental)',
    )
    .addOption(
      new Option(
        '--tables <list>',
        `tables to export, separated by commas (default: the connection's Exports.Tables, else all: ${IDENTITY_TABLES.join(', ')})`,
      ).argParser(tableList),
    )
    .option(
      '--out <dir>',
      "folder for the CSV files, on the worker's machine; relative to the current folder (default: Exports.OutputDirectory)",
    );
}

function time(date: Date | undefined): string {
  return date === undefined
    ? ''
    : date
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z');
}

/** `4.2 s`, `27 s`, `4m05s`, `1h02m03s`. */
function elapsedText(ms: number): string {
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  const total = Math.round(ms / 1000);
  if (total < 60) return `${total} s`;
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m${s}s` : `${m}m${s}s`;
}

// ---------------------------------------------------------------------------------------------------------
// Following a run
// ---------------------------------------------------------------------------------------------------------

/** What the displays show of one table. */
interface TableLine {
  readonly table: string;
  readonly state: TableExportState;
  readonly rows: number;
  /** Expected rows: the heartbeat's estimate, or the rows of a finished table. */
  readonly total?: number;
  /** Rows per second: recent while running, overall once done (when the run was followed). */
  readonly rate?: number;
  readonly mode?: string;
  readonly attempt: number;
  /** Set while the activity waits out ServiceNow's rate limit (429), or the next attempt after a failed one. */
  readonly waitingUntil?: Date;
  readonly waitingFor?: 'rate limit' | 'retry';
  readonly lastFailure?: string;
  readonly error?: string;
}

/** Rows per second of each table, from the heartbeats' own times (the SDK sends them throttled). */
class RateMeter {
  private readonly samples = new Map<string, { at: number; rows: number }[]>();
  private readonly firstSeen = new Map<string, { at: number; rows: number }>();
  private readonly finished = new Map<string, number>();

  observe(table: string, rows: number, at: number): void {
    const samples = this.samples.get(table) ?? [];
    const last = samples.at(-1);
    if (last !== undefined && last.at === at) return;
    if (last !== undefined && rows < last.rows) samples.length = 0; // a retry that started over
    samples.push({ at, rows });
    // A window of 15 s, but never fewer than two samples: heartbeats may be further apart than that.
    while (samples.length > 2 && at - (samples[0]?.at ?? at) > 15_000) samples.shift();
    this.samples.set(table, samples);
    if (!this.firstSeen.has(table)) this.firstSeen.set(table, { at, rows });
  }

  current(table: string): number | undefined {
    const samples = this.samples.get(table) ?? [];
    const first = samples[0];
    const last = samples.at(-1);
    if (first === undefined || last === undefined || last.at - first.at < 1_000) return undefined;
    return ((last.rows - first.rows) * 1000) / (last.at - first.at);
  }

  /** A finished table's rate over the time it was followed running; undefined when it was never seen running. */
  finish(table: string, rows: number, at: number): number | undefined {
    if (!this.finished.has(table)) {
      const first = this.firstSeen.get(table);
      if (first !== undefined && at - first.at >= 1_000) {
        this.finished.set(table, ((rows - first.rows) * 1000) / (at - first.at));
      } else this.finished.set(table, Number.NaN);
    }
    const rate = this.finished.get(table);
    return rate === undefined || Number.isNaN(rate) ? undefined : rate;
  }
}

function tableLines(snapshot: ExportSnapshot, meter: RateMeter, now: number): TableLine[] {
  const tables = snapshot.progress?.tables ?? [];
  return tables.map((progress): TableLine => {
    const activity = tableActivity(snapshot, progress.table);
    const heartbeat = activity?.heartbeat;
    if (progress.state === 'done' && progress.result !== undefined) {
      const { rows, mode } = progress.result;
      const rate = meter.finish(progress.table, rows, now);
      return {
        table: progress.table,
        state: 'done',
        rows,
        total: rows,
        mode,
        attempt: activity?.attempt ?? 1,
        ...(rate === undefined ? {} : { rate }),
      };
    }
    const rows = heartbeat?.rows ?? 0;
    if (heartbeat !== undefined) {
      meter.observe(progress.table, rows, activity?.lastHeartbeatAt?.getTime() ?? now);
    }
    const rate = progress.state === 'running' ? meter.current(progress.table) : undefined;
    const rateLimitedUntil =
      heartbeat?.waitingUntil === undefined ? undefined : new Date(heartbeat.waitingUntil);
    const waiting =
      rateLimitedUntil !== undefined && rateLimitedUntil.getTime() > now
        ? { waitingUntil: rateLimitedUntil, waitingFor: 'rate limit' as const }
        : activity?.nextAttemptAt !== undefined && activity.nextAttemptAt.getTime() > now
          ? { waitingUntil: activity.nextAttemptAt, waitingFor: 'retry' as const }
          : {};
    const total =
      heartbeat?.totalEstimate === undefined ? undefined : Math.max(heartbeat.totalEstimate, rows);
    return {
      table: progress.table,
      state: progress.state,
      rows,
      attempt: activity?.attempt ?? 1,
      ...(total === undefined ? {} : { total }),
      ...(rate === undefined ? {} : { rate }),
      ...(heartbeat?.mode === undefined ? {} : { mode: heartbeat.mode }),
      ...waiting,
      ...(activity?.lastFailure === undefined ? {} : { lastFailure: activity.lastFailure }),
      ...(progress.error === undefined ? {} : { error: progress.error }),
    };
  });
}

function rateText(rate: number | undefined): string {
  return rate === undefined ? '' : `${Math.round(rate)} rows/s`;
}

function statusText(line: TableLine, now: number): string {
  switch (line.state) {
    case 'pending':
      return 'pending';
    case 'done':
      return `done (${line.mode ?? ''})`;
    case 'failed':
      return `failed: ${line.error ?? 'see the workflow'}`;
    case 'running': {
      const parts: string[] = [line.mode === undefined ? 'starting' : `running (${line.mode})`];
      if (line.attempt > 1) parts.push(`attempt ${line.attempt}`);
      if (line.waitingUntil !== undefined) {
        const seconds = Math.max(1, Math.ceil((line.waitingUntil.getTime() - now) / 1000));
        parts.push(
          line.waitingFor === 'retry'
            ? `next attempt in ${seconds} s`
            : `ServiceNow rate limit, next read in ${seconds} s`,
        );
      }
      return parts.join(', ');
    }
  }
}

/** How a followed run is shown: bars on a terminal, plain lines elsewhere, nothing for --json. */
interface ProgressView {
  update(snapshot: ExportSnapshot): void;
  /** A message about the following itself (a failed look, no worker). */
  note(message: string): void;
  stop(): void;
}

const silentView: ProgressView = { update() {}, note() {}, stop() {} };

class BarsView implements ProgressView {
  private readonly multibar: MultiBar;
  private readonly bars = new Map<string, ReturnType<MultiBar['create']>>();
  private readonly meter = new RateMeter();
  private readonly width: number;

  constructor(private readonly stream: NodeJS.WriteStream) {
    this.width = Math.max(...IDENTITY_TABLES.map((table) => table.length));
    this.multibar = new MultiBar({
      stream,
      format: (options: BarOptions, params: BarParams, payload: { line?: TableLine }) =>
        this.format(options, params, payload.line),
      barsize: 30,
      barCompleteChar: '\u2588',
      barIncompleteChar: '\u2591',
      hideCursor: true,
      gracefulExit: false,
      emptyOnZero: true,
      fps: 5,
      // Our own look every POLL_INTERVAL_MS: no extra redraws in between.
      synchronousUpdate: false,
    });
  }

  private format(options: BarOptions, params: BarParams, line: TableLine | undefined): string {
    if (line === undefined) return '';
    const now = Date.now();
    const progress = line.total === undefined || line.total === 0 ? 0 : Math.min(1, line.rows / line.total);
    const bar = Format.BarFormat(line.state === 'done' ? 1 : progress, options);
    const percent = line.total === undefined ? '   ?' : `${Math.floor(progress * 100)}%`.padStart(4);
    const count = line.total === undefined ? `${line.rows}` : `${line.rows}/${line.total}`;
    const rate = rateText(line.rate);
    return [
      `${line.table.padEnd(this.width)} ${bar} ${percent}`,
      `${count} rows`,
      ...(rate === '' ? [] : [rate]),
      statusText(line, now),
    ].join(' | ');
  }

  update(snapshot: ExportSnapshot): void {
    for (const line of tableLines(snapshot, this.meter, Date.now())) {
      const total = line.total ?? 0;
      const bar = this.bars.get(line.table);
      if (bar === undefined) {
        this.bars.set(line.table, this.multibar.create(total, line.rows, { line }));
      } else {
        bar.setTotal(total);
        bar.update(line.rows, { line });
      }
    }
  }

  note(message: string): void {
    // The multibar prints logged lines when it redraws, which it does only once it has bars.
    if (this.bars.size === 0) this.stream.write(`${message}\n`);
    else this.multibar.log(`${message}\n`);
  }

  stop(): void {
    this.multibar.update();
    this.multibar.stop();
  }
}

class PlainView implements ProgressView {
  private readonly meter = new RateMeter();
  private readonly last = new Map<string, { key: string; at: number }>();

  constructor(private readonly write: (line: string) => void) {}

  update(snapshot: ExportSnapshot): void {
    const now = Date.now();
    for (const line of tableLines(snapshot, this.meter, now)) {
      // State changes print at once; progress of a running table at most every PLAIN_LINE_INTERVAL_MS.
      const key = `${line.state}|${line.attempt}|${line.waitingFor ?? ''}`;
      const previous = this.last.get(line.table);
      const changed = previous?.key !== key;
      if (line.state === 'pending' && previous === undefined) {
        this.last.set(line.table, { key, at: now });
        continue;
      }
      if (!changed && (line.state !== 'running' || now - (previous?.at ?? 0) < PLAIN_LINE_INTERVAL_MS)) {
        continue;
      }
      this.last.set(line.table, { key, at: now });
      this.write(this.describe(line, now));
    }
  }

  private describe(line: TableLine, now: number): string {
    const rate = rateText(line.rate);
    const rows =
      line.total === undefined || line.state === 'done'
        ? `${line.rows} rows`
        : `${line.rows}/${line.total} rows`;
    const failure =
      line.state === 'running' && line.attempt > 1 && line.lastFailure !== undefined
        ? `; previous attempt: ${line.lastFailure}`
        : '';
    return `${line.table}: ${statusText(line, now)}, ${rows}${rate === '' ? '' : `, ${rate}`}${failure}`;
  }

  note(message: string): void {
    this.write(message);
  }

  stop(): void {}
}

interface FollowOptions {
  readonly progress: boolean;
  readonly json: boolean;
}

function progressView(options: FollowOptions): ProgressView {
  if (options.json) return silentView;
  if (options.progress && process.stdout.isTTY) return new BarsView(process.stdout);
  return new PlainView((line) => console.log(line));
}

/** Resolves when Ctrl-C is pressed (once), so that the command can say where the export goes on. */
function interruption(): { readonly signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  return { signal: controller.signal, dispose: () => process.off('SIGINT', onSigint) };
}

/**
 * Looks at the run every POLL_INTERVAL_MS (each look bounded by POLL_TIMEOUT_MS) until it ends, then returns its
 * result. Failed looks are reported and retried; MAX_FAILED_LOOKS in a row end the following, not the export.
 */
async function follow(
  client: Client,
  handle: WorkflowHandle,
  view: ProgressView,
  signal: AbortSignal,
): Promise<ExportResult> {
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
      if (error instanceof WorkflowNotFoundError) throw error;
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
  try {
    const result = (await handle.result()) as ExportResult;
    view.update(endSnapshot(last, lastProgress, result, []));
    return result;
  } catch (error) {
    const partial = error instanceof WorkflowFailedError ? partialResultOf(error) : undefined;
    if (partial !== undefined) view.update(endSnapshot(last, lastProgress, partial.result, partial.failed));
    throw error;
  }
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

interface PartialResult {
  readonly result: ExportResult;
  readonly failed: readonly { table: string; error: string }[];
}

/** The workflow fails with its partial result and the failed tables as details (`ExportFailed`). */
function partialResultOf(error: WorkflowFailedError): PartialResult | undefined {
  const cause = error.cause;
  if (!(cause instanceof ApplicationFailure) || cause.type !== 'ExportFailed') return undefined;
  const [result, failed] = cause.details ?? [];
  if (typeof result !== 'object' || result === null || !Array.isArray((result as ExportResult).tables)) {
    return undefined;
  }
  return {
    result: result as ExportResult,
    failed: Array.isArray(failed) ? (failed as PartialResult['failed']) : [],
  };
}

function failureText(error: WorkflowFailedError): string {
  const messages: string[] = [];
  let cause: unknown = error.cause;
  while (cause instanceof Error) {
    if (cause.message !== '' && !messages.includes(cause.message)) messages.push(cause.message);
    cause = cause.cause;
  }
  return messages.join(': ') || error.message;
}

function summaryOf(workflowId: string, result: ExportResult, ending = 'finished'): string {
  const rows = result.tables.reduce((sum, table) => sum + table.rows, 0);
  const elapsed = Date.parse(result.finishedAt) - Date.parse(result.startedAt);
  const head =
    `Export ${workflowId} of ${result.connection} ${ending}: ${plural(result.tables.length, 'table')}` +
    `${ending === 'finished' ? '' : ' exported'}, ` +
    `${plural(rows, 'row')}` +
    (Number.isFinite(elapsed) ? ` in ${elapsedText(elapsed)}` : '');
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
async function followAndReport(
  client: Client,
  handle: WorkflowHandle,
  options: FollowOptions,
): Promise<void> {
  const view = progressView(options);
  const interrupt = interruption();
  let result: ExportResult;
  try {
    result = await follow(client, handle, view, interrupt.signal);
  } catch (error) {
    if (error instanceof WorkflowFailedError) {
      const partial = partialResultOf(error);
      if (options.json) {
        printJson({
          workflowId: handle.workflowId,
          failed: partial?.failed ?? [],
          error: failureText(error),
          ...(partial?.result ?? {}),
        });
      } else if (partial !== undefined && partial.result.tables.length > 0) {
        console.log(summaryOf(handle.workflowId, partial.result, 'failed'));
      }
      throw new CliError(`Export ${handle.workflowId} failed: ${failureText(error)}`);
    }
    throw error;
  } finally {
    view.stop();
    interrupt.dispose();
  }
  if (options.json) printJson({ workflowId: handle.workflowId, ...result });
  else console.log(summaryOf(handle.workflowId, result));
}

// ---------------------------------------------------------------------------------------------------------
// export, export watch
// ---------------------------------------------------------------------------------------------------------

interface ExportOptions extends InputOptions {
  progress: boolean;
  json?: boolean;
  detach?: boolean;
}

const EXPORT_EXAMPLES = `Examples:
  $ snow-ticket export                                   # the only connection, with progress bars
  $ snow-ticket export --connection Main --complete      # every row of every table
  $ snow-ticket export --connection Main --tables sys_user,sys_user_grmember --out /srv/idm/in
  $ snow-ticket export --connection Main --no-progress --json > result.json
  $ snow-ticket export --connection Main --detach        # prints the workflow id and returns
  $ snow-ticket export watch export:Main:2024-05-01T10:00:00.000Z
  $ snow-ticket export schedule create --connection Main --every 1h   # periodic: see export schedule --help`;

const EXPORT_NOTES = `The export runs in the worker, not in this command: Ctrl-C stops following it, not the export
(follow it again with "snow-ticket export watch <workflow id>"). A second export of a connection
whose export is still running is refused. The workflow id is export:<connection>:<start time>.
Incremental unless --complete or the connection's Exports.Complete setting: each table reads only
the rows changed since its last successful export; deletions are seen by complete exports only.

Exit codes: 0 the export completed; 1 it failed (the failing table and ServiceNow's message are printed)
or Temporal could not be reached; 2 invalid options or settings; 130 interrupted (the export goes on).`;

/**
 * `export` is a command group whose default subcommand, `export run`, takes the options: the group itself has
 * none, so that options after `export schedule create` reach that subcommand (commander gives a parent's options
 * to the parent wherever they appear, unless the whole program parses options positionally).
 */
function registerExport(program: Command): { exportCommand: Command; run: Command } {
  const exportCommand = usageErrorsExit2(
    program
      .command('export')
      .summary('export users, groups, memberships and roles of a connection to CSV files')
      .description(
        'export ServiceNow users, groups, memberships, roles and role grants of a connection to CSV files ' +
          '(<connection>_<table>.csv) through the worker, as an exportWorkflow in Temporal, and follow it: a ' +
          'progress bar per table, then a summary. "export [options]" is "export run [options]".',
      ),
  );
  const run = inputOptions(
    exportCommand
      .command('run', { isDefault: true })
      .description(
        'export now and follow the run: a progress bar per table (rows, rate, estimated total), then a summary ' +
          '(the default subcommand: "snow-ticket export [options]" runs it)',
      ),
  )
    .option(
      '--no-progress',
      'print plain progress lines instead of bars (always so when stdout is not a terminal)',
    )
    .option('--json', 'print only the result, as JSON, when the export ends')
    .option('--detach', 'start the export and print its workflow id, without following it')
    .addHelpText('after', `\n${EXPORT_NOTES}\n\n${EXPORT_EXAMPLES}`);
  exportCommand.addHelpText('after', () => {
    const options = run.helpInformation().split('\nOptions:\n')[1] ?? '';
    return `\nOptions of "export" (that is, of "export run"):\n${options.trimEnd()}\n\n${EXPORT_NOTES}\n\n${EXPORT_EXAMPLES}`;
  });
  run.action(async (options: ExportOptions, cmd: Command) => {
    const { settings } = loadCliConfig(cmd);
    const connection = resolveConnection(settings, options.connection);
    const input = exportInput(connection, options);
    await withTemporal(settings, async ({ client, target }) => {
      const running = await runningExports(client, connection).catch(() => []);
      const busy = running[0];
      if (busy !== undefined) {
        throw new CliError(
          `An export of ${connection} is already running: ${busy.workflowId} (started ${time(busy.startTime)}). ` +
            `Follow it with: snow-ticket export watch ${busy.workflowId}`,
        );
      }
      let started;
      try {
        started = await startExport(client, input, { taskQueue: target.taskQueue });
      } catch (error) {
        if (error instanceof WorkflowExecutionAlreadyStartedError) {
          throw new CliError(
            `${error.message}: another export was started at the same moment; run the command again`,
          );
        }
        throw error;
      }
      if (options.detach) {
        if (options.json) printJson({ workflowId: started.workflowId, started: true });
        else
          console.log(
            `started  ${started.workflowId}  (follow it: snow-ticket export watch ${started.workflowId})`,
          );
        return;
      }
      if (!options.json) {
        console.log(
          `started  ${started.workflowId}  (${input.complete === true ? 'complete' : 'incremental'} export of ${connection}` +
            `${input.tables === undefined ? '' : `: ${input.tables.join(', ')}`}; task queue ${target.taskQueue})`,
        );
      }
      await followAndReport(client, started.handle, {
        progress: options.progress,
        json: options.json === true,
      });
    });
  });
  usageErrorsExit2(run);
  return { exportCommand, run };
}

function registerWatch(exportCommand: Command): void {
  usageErrorsExit2(
    exportCommand
      .command('watch <workflowId>')
      .description(
        'follow an export that is running (started by "export --detach", a schedule or another client) ' +
          'and print its summary; an export that ended already prints its summary at once',
      )
      .option('--no-progress', 'print plain progress lines instead of bars')
      .option('--json', 'print only the result, as JSON, when the export ends')
      .addHelpText(
        'after',
        `
Exit codes: 0 the export completed; 1 it failed, or there is no such workflow; 130 interrupted.

Examples:
  $ snow-ticket export watch export:Main:2024-05-01T10:00:00.000Z
  $ snow-ticket export watch export:Main:schedule-2024-05-01T02:00:00Z --json`,
      )
      .action(async (workflowId: string, options: { progress: boolean; json?: boolean }, cmd: Command) => {
        const { settings } = loadCliConfig(cmd);
        await withTemporal(settings, async ({ client }) => {
          const handle = client.workflow.getHandle(workflowId);
          const description = await handle.describe();
          if (description.type !== EXPORT_WORKFLOW_TYPE) {
            throw new CliError(`${workflowId} is a ${description.type}, not an export`, 2);
          }
          await followAndReport(client, handle, { progress: options.progress, json: options.json === true });
        });
      }),
  );
}

// ---------------------------------------------------------------------------------------------------------
// export schedule ...
// ---------------------------------------------------------------------------------------------------------

/** Schedule errors any subcommand may meet, in the operator's words. */
async function withSchedules<T>(
  command: Command,
  connectionOption: string | undefined,
  action: (client: Client, connection: string, taskQueue: string) => Promise<T>,
): Promise<T> {
  const { settings } = loadCliConfig(command);
  const connection = resolveConnection(settings, connectionOption);
  return withTemporal(settings, async ({ client, target }) => {
    try {
      return await action(client, connection, target.taskQueue);
    } catch (error) {
      if (error instanceof ScheduleNotFoundError) {
        throw new CliError(
          `No export schedule for ${connection} (schedule id ${exportScheduleId(connection)}); ` +
            'see snow-ticket export schedule list',
        );
      }
      throw error;
    }
  });
}

function connectionOption(command: Command, what: string): Command {
  return command.addOption(
    new Option(
      '--connection <id>',
      `connection whose schedule to ${what} (default: the only one in the settings)`,
    ).argParser(connectionId),
  );
}

function listingFields(listing: ExportScheduleListing & { running?: readonly string[] }): string {
  return formatFields([
    ['Schedule', listing.scheduleId],
    ['Connection', listing.connection],
    ['Runs', listing.cadence],
    ['State', listing.paused ? 'paused' : 'active'],
    ['Note', listing.note],
    ['Next run', time(listing.nextRunAt)],
    [
      'Last run',
      listing.lastRun === undefined
        ? undefined
        : `${listing.lastRun.workflowId} at ${time(listing.lastRun.takenAt)}`,
    ],
    [
      'Running',
      listing.running === undefined || listing.running.length === 0 ? undefined : listing.running.join(', '),
    ],
  ]);
}

function isInvalidArgument(error: unknown): boolean {
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) {
    // gRPC status 3: INVALID_ARGUMENT (a cron expression or time zone the server cannot use).
    if (isGrpcServiceError(cause) && Number(cause.code) === 3) return true;
  }
  return false;
}

interface ScheduleCreateOptions extends InputOptions {
  every?: number;
  cron?: string;
  timeZone?: string;
  paused?: boolean;
  note?: string;
  json?: boolean;
}

function registerSchedule(exportCommand: Command): void {
  const schedule = usageErrorsExit2(
    exportCommand
      .command('schedule')
      .description(
        "periodic exports through a Temporal Schedule per connection (export-<connection>): each run is an exportWorkflow, shown in the Web UI's Schedules page; a run is skipped while the previous one is still going",
      )
      .addHelpText(
        'after',
        `
Examples:
  $ snow-ticket export schedule create --connection Main --every 1h
  $ snow-ticket export schedule create --connection Main --cron "30 2 * * *" --time-zone Europe/Paris --complete
  $ snow-ticket export schedule list
  $ snow-ticket export schedule pause --connection Main --note "ServiceNow upgrade"
  $ snow-ticket export schedule trigger --connection Main`,
      ),
  );

  usageErrorsExit2(
    inputOptions(
      schedule
        .command('create')
        .description(
          'create the export schedule of a connection: every interval (--every) or at cron times (--cron); the export options are those of "snow-ticket export"',
        ),
    )
      .addOption(
        new Option('--every <duration>', 'run every interval, e.g. 15m, 1h, 24h (at least 1m)')
          .argParser(scheduleInterval)
          .conflicts('cron'),
      )
      .addOption(
        new Option(
          '--cron <expression>',
          'run at cron times: minute hour day-of-month month day-of-week, or @daily',
        )
          .argParser(cronExpression)
          .conflicts('every'),
      )
      .addOption(new Option('--time-zone <zone>', 'time zone of --cron (default: UTC)').argParser(timeZone))
      .option('--paused', 'create it paused (unpause it later)')
      .addOption(new Option('--note <text>', 'a note shown with the schedule in the Web UI').argParser(note))
      .option('--json', 'print the schedule as JSON')
      .addHelpText(
        'after',
        `
Runs missed while Temporal was down are caught up within 10 minutes (one run, not one per missed time).
A connection has one schedule: delete it to change it. --out is a folder on the worker's machine.

Exit codes: 0 created; 1 the schedule exists already, or Temporal could not be reached; 2 invalid options.

Examples:
  $ snow-ticket export schedule create --connection Main --every 1h
  $ snow-ticket export schedule create --connection Main --every 24h --complete --out /srv/idm/in
  $ snow-ticket export schedule create --connection Main --cron "0 */4 * * *" --tables sys_user,sys_user_grmember
  $ snow-ticket export schedule create --connection Main --cron "30 2 * * 1-5" --time-zone America/New_York --paused`,
      )
      .action(async (options: ScheduleCreateOptions, cmd: Command) => {
        if ((options.every === undefined) === (options.cron === undefined)) {
          throw new CliError('Give when the export runs: --every <duration> or --cron <expression>', 2);
        }
        if (options.timeZone !== undefined && options.cron === undefined) {
          throw new CliError('--time-zone applies to --cron only', 2);
        }
        const cadence: ExportCadence =
          options.every !== undefined
            ? { kind: 'every', everyMs: options.every }
            : {
                kind: 'cron',
                cron: options.cron as string,
                ...(options.timeZone === undefined ? {} : { timeZone: options.timeZone }),
              };
        await withSchedules(cmd, options.connection, async (client, connection, taskQueue) => {
          try {
            await createExportSchedule(client, {
              input: exportInput(connection, options),
              cadence,
              taskQueue,
              ...(options.paused === true ? { paused: true } : {}),
              ...(options.note === undefined ? {} : { note: options.note }),
            });
          } catch (error) {
            if (error instanceof ScheduleAlreadyRunning) {
              throw new CliError(
                `${connection} has an export schedule already (${exportScheduleId(connection)}): ` +
                  `delete it first to change it (snow-ticket export schedule delete --connection ${connection})`,
              );
            }
            // The SDK turns the server's "Invalid schedule spec" into a TypeError; other refusals stay gRPC errors.
            if (error instanceof TypeError || isInvalidArgument(error)) {
              throw new CliError(`Temporal refused the schedule: ${messageOf(error)}`, 2);
            }
            throw error;
          }
          const created = await describeExportSchedule(client, connection);
          if (options.json) printJson(created);
          else console.log(`created  ${created.scheduleId}\n${listingFields(created)}`);
        });
      }),
  );

  usageErrorsExit2(
    schedule
      .command('list')
      .description('list the export schedules of the namespace')
      .option('--json', 'print them as JSON')
      .addHelpText(
        'after',
        `
The list comes from Temporal's visibility store, which lags a moment behind changes.

Examples:
  $ snow-ticket export schedule list
  $ snow-ticket export schedule list --json`,
      )
      .action(async (options: { json?: boolean }, cmd: Command) => {
        const { settings } = loadCliConfig(cmd);
        await withTemporal(settings, async ({ client }) => {
          const listings = await listExportSchedules(client);
          printListing(listings, {
            json: options.json,
            empty: 'No export schedules (create one: snow-ticket export schedule create --help).',
            headers: ['schedule', 'connection', 'runs', 'state', 'next run', 'last run'],
            cells: (listing) => [
              listing.scheduleId,
              listing.connection,
              listing.cadence,
              listing.paused ? 'paused' : 'active',
              listing.paused ? '' : time(listing.nextRunAt),
              listing.lastRun === undefined ? '' : `${listing.lastRun.workflowId}`,
            ],
          });
        });
      }),
  );

  const simple = (
    name: string,
    description: string,
    what: string,
    example: string,
    run: (client: Client, connection: string, options: { note?: string }) => Promise<string>,
    withNote: boolean,
  ) => {
    const command = connectionOption(schedule.command(name).description(description), what);
    if (withNote) {
      command.addOption(
        new Option('--note <text>', 'why, shown with the schedule in the Web UI').argParser(note),
      );
    }
    usageErrorsExit2(
      command
        .addHelpText(
          'after',
          `
Exit codes: 0 done; 1 no such schedule, or Temporal could not be reached; 2 invalid options.

Examples:
${example}`,
        )
        .action(async (options: { connection?: string; note?: string }, cmd: Command) => {
          await withSchedules(cmd, options.connection, async (client, connection) => {
            console.log(await run(client, connection, options));
          });
        }),
    );
  };

  simple(
    'pause',
    'pause the export schedule of a connection: no run starts until it is unpaused (a running export goes on)',
    'pause',
    '  $ snow-ticket export schedule pause --connection Main --note "ServiceNow upgrade until Monday"',
    async (client, connection, options) => {
      await pauseExportSchedule(client, connection, options.note);
      return `paused   ${exportScheduleId(connection)}`;
    },
    true,
  );
  simple(
    'unpause',
    'unpause the export schedule of a connection: runs start again at the next scheduled time',
    'unpause',
    '  $ snow-ticket export schedule unpause --connection Main',
    async (client, connection, options) => {
      await unpauseExportSchedule(client, connection, options.note);
      const listing = await describeExportSchedule(client, connection);
      return `unpaused ${listing.scheduleId}${listing.nextRunAt === undefined ? '' : `  (next run ${time(listing.nextRunAt)})`}`;
    },
    true,
  );
  simple(
    'delete',
    'delete the export schedule of a connection (a running export goes on; the CSV files and watermarks stay)',
    'delete',
    '  $ snow-ticket export schedule delete --connection Main',
    async (client, connection) => {
      await deleteExportSchedule(client, connection);
      return `deleted  ${exportScheduleId(connection)}`;
    },
    false,
  );
  simple(
    'trigger',
    "run the export schedule of a connection now, with the schedule's options; nothing starts while a run of the schedule is still going",
    'trigger',
    '  $ snow-ticket export schedule trigger --connection Main\n  $ snow-ticket export watch <the workflow id it prints>',
    async (client, connection) => triggerAndFind(client, connection),
    false,
  );
}

/** Triggers the schedule and waits briefly for the run it starts, to name it. */
async function triggerAndFind(client: Client, connection: string): Promise<string> {
  const before = await describeExportSchedule(client, connection);
  const seen = new Set([
    ...before.running,
    ...(before.lastRun === undefined ? [] : [before.lastRun.workflowId]),
  ]);
  await triggerExportSchedule(client, connection);
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    await sleep(250);
    const after = await describeExportSchedule(client, connection);
    const started = [
      ...after.running,
      ...(after.lastRun === undefined ? [] : [after.lastRun.workflowId]),
    ].find((id) => !seen.has(id));
    if (started !== undefined) {
      return `triggered ${after.scheduleId}: started ${started}  (follow it: snow-ticket export watch ${started})`;
    }
  }
  return before.running.length > 0
    ? `triggered ${before.scheduleId}: nothing started, its run ${before.running.join(', ')} is still going (overlap policy skip)`
    : `triggered ${before.scheduleId}: the run has not shown yet; see snow-ticket export schedule list`;
}

/** Registers `export`, `export watch` and `export schedule create|list|pause|unpause|delete|trigger`. */
export function registerExportCommands(program: Command): void {
  const { exportCommand } = registerExport(program);
  registerWatch(exportCommand);
  registerSchedule(exportCommand);
}
