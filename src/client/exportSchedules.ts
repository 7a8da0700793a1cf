import { formatDuration } from '../contract/durations';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  isGrpcServiceError,
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleDescription,
  type ScheduleSummary,
} from '@temporalio/client';
import type { ExportInput } from '../contract/export';
import { EXPORT_WORKFLOW_TYPE } from '../contract/names';
import { exportScheduleId, exportSummary, exportWorkflowIdPrefix } from './exportRuns';
import { messageOf } from './session';

/** The Temporal Schedules that run a connection's CSV export periodically, one per connection. */

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

/** The connection has an export schedule already: delete it to change it. */
export class ExportScheduleExistsError extends Error {
  constructor(readonly scheduleId: string) {
    super(`Schedule ${scheduleId} exists already`);
    this.name = 'ExportScheduleExistsError';
  }
}

/** Temporal refused the schedule's spec (a cron expression or time zone it cannot use); the message says why. */
export class ExportScheduleRefusedError extends Error {
  constructor(cause: unknown) {
    super(`Temporal refused the schedule: ${messageOf(cause)}`, { cause });
    this.name = 'ExportScheduleRefusedError';
  }
}

function isInvalidArgument(error: unknown): boolean {
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) {
    // gRPC status 3: INVALID_ARGUMENT (a cron expression or time zone the server cannot use).
    if (isGrpcServiceError(cause) && Number(cause.code) === 3) return true;
  }
  return false;
}

/** No export schedule for the connection (the pause, unpause, delete, trigger and describe calls throw it). */
export function isScheduleNotFound(error: unknown): boolean {
  return error instanceof ScheduleNotFoundError;
}

/**
 * Creates the connection's export schedule (`export-<connection>`): an `exportWorkflow` run every interval or at
 * every cron time, skipped while the previous run of the connection is still going (overlap policy SKIP), runs
 * missed while Temporal was down caught up within 10 minutes, one at most. Throws ExportScheduleExistsError when
 * the connection has a schedule already, ExportScheduleRefusedError when the server cannot use the cadence.
 */
export async function createExportSchedule(client: Client, options: ExportScheduleOptions): Promise<string> {
  const { input, cadence } = options;
  const scheduleId = exportScheduleId(input.connection);
  const memo: ExportScheduleMemo = { connection: input.connection, cadence: describeCadence(cadence) };
  try {
    await createSchedule(client, scheduleId, options, memo);
  } catch (error) {
    if (error instanceof ScheduleAlreadyRunning) throw new ExportScheduleExistsError(scheduleId);
    // The SDK turns the server's "Invalid schedule spec" into a TypeError; other refusals stay gRPC errors.
    if (error instanceof TypeError || isInvalidArgument(error)) throw new ExportScheduleRefusedError(error);
    throw error;
  }
  return scheduleId;
}

async function createSchedule(
  client: Client,
  scheduleId: string,
  options: ExportScheduleOptions,
  memo: ExportScheduleMemo,
): Promise<void> {
  const { input, cadence } = options;
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

/** What a trigger did: the run it started, if one showed within a few seconds, and the runs already going. */
export interface TriggeredExport {
  readonly scheduleId: string;
  readonly started?: string;
  /** Runs of the schedule going before the trigger: with overlap policy SKIP, nothing starts while they are. */
  readonly alreadyRunning: readonly string[];
}

/** Triggers the schedule and waits briefly (5 s) for the run it starts, to name it. */
export async function triggerExportScheduleRun(client: Client, connection: string): Promise<TriggeredExport> {
  const before = await describeExportSchedule(client, connection);
  const runsOf = (listing: typeof before) => [
    ...listing.running,
    ...(listing.lastRun === undefined ? [] : [listing.lastRun.workflowId]),
  ];
  const seen = new Set(runsOf(before));
  await triggerExportSchedule(client, connection);
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    await sleep(250);
    const started = runsOf(await describeExportSchedule(client, connection)).find((id) => !seen.has(id));
    if (started !== undefined)
      return { scheduleId: before.scheduleId, started, alreadyRunning: before.running };
  }
  return { scheduleId: before.scheduleId, alreadyRunning: before.running };
}
