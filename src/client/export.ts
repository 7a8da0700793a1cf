import { defaultPayloadConverter, type PayloadConverter } from '@temporalio/common';
import { optionalTsToDate } from '@temporalio/common/lib/time';
import type { temporal } from '@temporalio/proto';
import {
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  WorkflowExecutionAlreadyStartedError,
  type Client,
  type ScheduleDescription,
  type ScheduleSummary,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
} from '@temporalio/client';
import {
  exportActivityId,
  type ExportHeartbeat,
  type ExportInput,
  type ExportProgress,
} from '../contract/export';
import { formatDuration } from '../contract/durations';
import { EXPORT_WORKFLOW_TYPE } from '../contract/names';

/**
 * Starting and following CSV exports, and the Temporal Schedules that run them periodically. The workflow's
 * contract (type `exportWorkflow`, its input, result, `progress` query and heartbeat details) is in
 * `src/export/types.ts`; this module only names and finds runs.
 */

/** The workflow type name other clients start: part of the public contract. */
export const EXPORT_PROGRESS_QUERY = 'progress';

/** `export:<connection>:`: every export of a connection, started by hand or by its schedule, has this prefix. */
export function exportWorkflowIdPrefix(connection: string): string {
  return `export:${connection}:`;
}

/**
 * `export:<connection>:<ISO 8601 time>` for an export started by hand. A schedule's runs are
 * `export:<connection>:schedule-<time>` (Temporal appends the scheduled time to the schedule's workflow id).
 */
export function exportWorkflowId(connection: string, at: Date = new Date()): string {
  return `${exportWorkflowIdPrefix(connection)}${at.toISOString()}`;
}

/** `export-<connection>`: one export schedule per connection. */
export function exportScheduleId(connection: string): string {
  return `export-${connection}`;
}

export interface StartedExport {
  readonly workflowId: string;
  readonly handle: WorkflowHandle;
}

/**
 * Starts an export under a new id. Conflict policy FAIL and reuse policy REJECT_DUPLICATE: an id names one export,
 * ever; two starts in the same millisecond do not silently share a run whose options may differ (the second one
 * fails with WorkflowExecutionAlreadyStartedError and can simply be retried).
 */
export async function startExport(
  client: Client,
  input: ExportInput,
  options: { readonly taskQueue: string; readonly now?: Date },
): Promise<StartedExport> {
  const workflowId = exportWorkflowId(input.connection, options.now);
  const handle = await client.workflow.start(EXPORT_WORKFLOW_TYPE, {
    taskQueue: options.taskQueue,
    workflowId,
    args: [input],
    workflowIdConflictPolicy: 'FAIL',
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    staticSummary: exportSummary(input),
  });
  return { workflowId, handle };
}

/** "Complete export of Main (sys_user, sys_user_group)": the run's summary in the Web UI. */
export function exportSummary(input: ExportInput): string {
  const mode = input.complete === true ? 'Complete export' : 'Export';
  const tables = input.tables === undefined ? '' : ` (${input.tables.join(', ')})`;
  return `${mode} of ${input.connection}${tables}`;
}

export { WorkflowExecutionAlreadyStartedError };

/** Escapes a value for a single-quoted string of a visibility query. */
function quoted(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export interface RunningExport {
  readonly workflowId: string;
  readonly runId: string;
  readonly startTime: Date;
}

/**
 * Exports of the connection that are running, by hand or by schedule, newest first. Visibility is eventually
 * consistent: an export started a moment ago may not be listed yet.
 */
export async function runningExports(client: Client, connection: string): Promise<RunningExport[]> {
  const query =
    `WorkflowType = ${quoted(EXPORT_WORKFLOW_TYPE)} AND ExecutionStatus = 'Running' ` +
    `AND WorkflowId STARTS_WITH ${quoted(exportWorkflowIdPrefix(connection))}`;
  const found: RunningExport[] = [];
  for await (const execution of client.workflow.list({ query, pageSize: 100 })) {
    found.push({ workflowId: execution.workflowId, runId: execution.runId, startTime: execution.startTime });
    if (found.length >= 100) break;
  }
  return found.sort((a, b) => b.startTime.getTime() - a.startTime.getTime());
}

// ---------------------------------------------------------------------------------------------------------
// Following a run: the progress query and the heartbeat details of the running table activities
// ---------------------------------------------------------------------------------------------------------

/** A pending `exportTable` activity as `describe()` shows it. */
export interface PendingTableActivity {
  readonly activityId: string;
  /** SCHEDULED, STARTED or CANCEL_REQUESTED (a worker has it), or PAUSED. */
  readonly state: string;
  readonly attempt: number;
  /** The last heartbeat's details; absent before the first heartbeat or when they cannot be read. */
  readonly heartbeat?: ExportHeartbeat;
  /** The failure of the previous attempt, when this one is a retry. */
  readonly lastFailure?: string;
  /** When the next attempt runs, while the activity waits out a retry backoff. */
  readonly nextAttemptAt?: Date;
  /** When the server last received a heartbeat (the SDK throttles them: not every page is sent). */
  readonly lastHeartbeatAt?: Date;
}

export interface ExportSnapshot {
  /** RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, CONTINUED_AS_NEW or TIMED_OUT. */
  readonly status: string;
  readonly startTime: Date;
  /** The answer of the `progress` query; absent when the query got no answer this time (no worker, a timeout). */
  readonly progress?: ExportProgress;
  /** Why the `progress` query got no answer, when it did not. */
  readonly progressError?: string;
  /** Pending activities by activity id (`export:<table>`). */
  readonly activities: ReadonlyMap<string, PendingTableActivity>;
  readonly taskQueue: string;
}

/** Decodes the first payload of heartbeat details; undefined when there is none or it is not JSON. */
export function decodeHeartbeat(
  details: temporal.api.common.v1.IPayloads | null | undefined,
  converter: PayloadConverter = defaultPayloadConverter,
): ExportHeartbeat | undefined {
  const payload = details?.payloads?.[0];
  if (payload === undefined || payload === null) return undefined;
  try {
    const value = converter.fromPayload<unknown>(payload);
    if (value === null || typeof value !== 'object') return undefined;
    const heartbeat = value as Partial<ExportHeartbeat>;
    return typeof heartbeat.table === 'string' && typeof heartbeat.rows === 'number'
      ? (value as ExportHeartbeat)
      : undefined;
  } catch {
    return undefined;
  }
}

const ACTIVITY_STATES: Readonly<Record<number, string>> = {
  1: 'SCHEDULED',
  2: 'STARTED',
  3: 'CANCEL_REQUESTED',
  4: 'PAUSED',
  5: 'PAUSE_REQUESTED',
};

/** The pending activities of a run's description, heartbeat details decoded. */
export function pendingTableActivities(
  description: WorkflowExecutionDescription,
  converter: PayloadConverter = defaultPayloadConverter,
): Map<string, PendingTableActivity> {
  const activities = new Map<string, PendingTableActivity>();
  for (const pending of description.raw.pendingActivities ?? []) {
    const activityId = pending.activityId ?? '';
    const heartbeat = decodeHeartbeat(pending.heartbeatDetails, converter);
    const lastFailure = pending.lastFailure?.message ?? undefined;
    const nextAttemptAt = optionalTsToDate(pending.nextAttemptScheduleTime);
    const lastHeartbeatAt = optionalTsToDate(pending.lastHeartbeatTime);
    activities.set(activityId, {
      activityId,
      state: ACTIVITY_STATES[Number(pending.state ?? 0)] ?? 'UNKNOWN',
      attempt: pending.attempt ?? 1,
      ...(heartbeat === undefined ? {} : { heartbeat }),
      ...(lastFailure === undefined || lastFailure === '' ? {} : { lastFailure }),
      ...(nextAttemptAt === undefined ? {} : { nextAttemptAt }),
      ...(lastHeartbeatAt === undefined ? {} : { lastHeartbeatAt }),
    });
  }
  return activities;
}

/** The pending activity of a table, if its export is running. */
export function tableActivity(snapshot: ExportSnapshot, table: string): PendingTableActivity | undefined {
  return snapshot.activities.get(exportActivityId(table));
}

/**
 * One look at a run: its description (status, pending activities with their heartbeats) and, while it runs, the
 * answer of the `progress` query. Bounded by `timeoutMs`: a query that no worker answers does not hold the caller.
 */
export async function exportSnapshot(
  client: Client,
  handle: WorkflowHandle,
  options: { readonly timeoutMs: number },
): Promise<ExportSnapshot> {
  const deadline = Date.now() + options.timeoutMs;
  const description = await client.withDeadline(deadline, () => handle.describe());
  const status = description.status.name;
  let progress: ExportProgress | undefined;
  let progressError: string | undefined;
  if (status === 'RUNNING') {
    try {
      progress = await client.withDeadline(deadline, () =>
        handle.query<ExportProgress>(EXPORT_PROGRESS_QUERY),
      );
    } catch (error) {
      progressError = error instanceof Error ? error.message : String(error);
    }
  }
  return {
    status,
    startTime: description.startTime,
    ...(progress === undefined ? {} : { progress }),
    ...(progressError === undefined ? {} : { progressError }),
    activities: pendingTableActivities(description),
    taskQueue: description.taskQueue,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Schedules
// ---------------------------------------------------------------------------------------------------------

export type ExportCadence =
  | { readonly kind: 'every'; readonly everyMs: number }
  | { readonly kind: 'cron'; readonly cron: string; readonly timeZone?: string };

export interface ExportScheduleOptions {
  readonly input: ExportInput;
  readonly cadence: ExportCadence;
  readonly taskQueue: string;
  readonly paused?: boolean;
  readonly note?: string;
}

/** What the schedule keeps in its memo, for `list` (a cron expression comes back from the server as calendars). */
export interface ExportScheduleMemo {
  readonly connection: string;
  readonly cadence: string;
}

export function describeCadence(cadence: ExportCadence): string {
  if (cadence.kind === 'every') return `every ${formatDuration(cadence.everyMs)}`;
  return `cron "${cadence.cron}"${cadence.timeZone === undefined ? '' : ` (${cadence.timeZone})`}`;
}

export { ScheduleAlreadyRunning };

/**
 * Creates the connection's export schedule (`export-<connection>`): an `exportWorkflow` run every interval or at
 * every cron time, skipped while the previous run of the connection is still going (overlap policy SKIP), runs
 * missed while Temporal was down caught up within 10 minutes, one at most. Throws ScheduleAlreadyRunning when the
 * connection has a schedule already.
 */
export async function createExportSchedule(client: Client, options: ExportScheduleOptions): Promise<string> {
  const { input, cadence } = options;
  const scheduleId = exportScheduleId(input.connection);
  const memo: ExportScheduleMemo = { connection: input.connection, cadence: describeCadence(cadence) };
  await client.schedule.create({
    scheduleId,
    spec:
      cadence.kind === 'every'
        ? { intervals: [{ every: cadence.everyMs }] }
        : {
            cronExpressions: [cadence.cron],
            ...(cadence.timeZone === undefined ? {} : { timezone: cadence.timeZone }),
          },
    action: {
      type: 'startWorkflow',
      workflowType: EXPORT_WORKFLOW_TYPE,
      workflowId: `${exportWorkflowIdPrefix(input.connection)}schedule`,
      taskQueue: options.taskQueue,
      args: [input],
      staticSummary: `Scheduled ${exportSummary(input).replace(/^./, (first) => first.toLowerCase())}`,
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '10 minutes' },
    memo: { ...memo },
    state: {
      paused: options.paused === true,
      note: options.note ?? `${memo.cadence} (created by snow-ticket)`,
    },
  });
  return scheduleId;
}

export interface ExportScheduleListing {
  readonly scheduleId: string;
  readonly connection: string;
  readonly cadence: string;
  readonly paused: boolean;
  readonly note?: string;
  readonly nextRunAt?: Date;
  readonly lastRun?: { readonly workflowId: string; readonly takenAt: Date };
}

function memoOf(memo: Record<string, unknown> | undefined): Partial<ExportScheduleMemo> {
  return {
    ...(typeof memo?.connection === 'string' ? { connection: memo.connection } : {}),
    ...(typeof memo?.cadence === 'string' ? { cadence: memo.cadence } : {}),
  };
}

function cadenceOfSpec(summary: ScheduleSummary | ScheduleDescription): string {
  const intervals = summary.spec?.intervals ?? [];
  const calendars = summary.spec?.calendars ?? [];
  const parts = intervals.map((interval) => `every ${formatDuration(Number(interval.every))}`);
  if (calendars.length > 0) parts.push(`${calendars.length} calendar spec(s)`);
  return parts.join(', ') || '(none)';
}

function listingOf(summary: ScheduleSummary | ScheduleDescription): ExportScheduleListing {
  const memo = memoOf(summary.memo);
  const last = summary.info.recentActions.at(-1);
  const next = summary.info.nextActionTimes[0];
  return {
    scheduleId: summary.scheduleId,
    connection: memo.connection ?? summary.scheduleId.replace(/^export-/, ''),
    cadence: memo.cadence ?? cadenceOfSpec(summary),
    paused: summary.state.paused,
    ...(summary.state.note === undefined || summary.state.note === '' ? {} : { note: summary.state.note }),
    ...(next === undefined ? {} : { nextRunAt: next }),
    ...(last === undefined
      ? {}
      : { lastRun: { workflowId: last.action.workflow.workflowId, takenAt: last.takenAt } }),
  };
}

/** The export schedules of the namespace (those whose action starts `exportWorkflow`), by schedule id. */
export async function listExportSchedules(client: Client): Promise<ExportScheduleListing[]> {
  const found: ExportScheduleListing[] = [];
  for await (const summary of client.schedule.list()) {
    if (summary.action?.type !== 'startWorkflow' || summary.action.workflowType !== EXPORT_WORKFLOW_TYPE)
      continue;
    found.push(listingOf(summary));
  }
  return found.sort((a, b) => (a.scheduleId < b.scheduleId ? -1 : a.scheduleId > b.scheduleId ? 1 : 0));
}

/** The connection's schedule as `describe()` sees it (consistent, unlike the listing). */
export async function describeExportSchedule(
  client: Client,
  connection: string,
): Promise<ExportScheduleListing & { readonly running: readonly string[] }> {
  const description = await client.schedule.getHandle(exportScheduleId(connection)).describe();
  return {
    ...listingOf(description),
    running: description.info.runningActions.map((action) => action.workflow.workflowId),
  };
}

export async function pauseExportSchedule(client: Client, connection: string, note?: string): Promise<void> {
  await client.schedule.getHandle(exportScheduleId(connection)).pause(note ?? 'paused by snow-ticket');
}

export async function unpauseExportSchedule(
  client: Client,
  connection: string,
  note?: string,
): Promise<void> {
  await client.schedule.getHandle(exportScheduleId(connection)).unpause(note ?? 'unpaused by snow-ticket');
}

export async function deleteExportSchedule(client: Client, connection: string): Promise<void> {
  await client.schedule.getHandle(exportScheduleId(connection)).delete();
}

/**
 * Runs the schedule's action now. Overlap policy SKIP (the SDK's default for a trigger would be ALLOW_ALL): a run
 * of the schedule that is still going is not doubled.
 */
export async function triggerExportSchedule(client: Client, connection: string): Promise<void> {
  await client.schedule.getHandle(exportScheduleId(connection)).trigger(ScheduleOverlapPolicy.SKIP);
}
