import {
  ApplicationFailure,
  WorkflowFailedError,
  type Client,
  type WorkflowExecutionDescription,
} from '@temporalio/client';
import { defaultPayloadConverter, type PayloadConverter } from '@temporalio/common';
import { optionalTsToDate } from '@temporalio/common/lib/time';
import type { temporal } from '@temporalio/proto';
import {
  exportActivityId,
  type ExportHeartbeat,
  type ExportProgress,
  type ExportResult,
} from '../contract/export';
import { exportProgressQuery } from '../workflows/export/messages';
import type { ExportRunHandle } from './exportRuns';

/** Following an export run: the progress query, the heartbeat details of the running table activities, its end. */

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
  handle: ExportRunHandle,
  options: { readonly timeoutMs: number },
): Promise<ExportSnapshot> {
  const deadline = Date.now() + options.timeoutMs;
  const description = await client.withDeadline(deadline, () => handle.describe());
  const status = description.status.name;
  let progress: ExportProgress | undefined;
  let progressError: string | undefined;
  if (status === 'RUNNING') {
    try {
      progress = await client.withDeadline(deadline, () => handle.query(exportProgressQuery));
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

/** The workflow fails with its partial result and the failed tables as details (`ExportFailed`). */
export interface PartialExportResult {
  readonly result: ExportResult;
  readonly failed: readonly { table: string; error: string }[];
}

function partialResultOf(error: WorkflowFailedError): PartialExportResult | undefined {
  const cause = error.cause;
  if (!(cause instanceof ApplicationFailure) || cause.type !== 'ExportFailed') return undefined;
  const [result, failed] = cause.details ?? [];
  if (typeof result !== 'object' || result === null || !Array.isArray((result as ExportResult).tables)) {
    return undefined;
  }
  return {
    result: result as ExportResult,
    failed: Array.isArray(failed) ? (failed as PartialExportResult['failed']) : [],
  };
}

/** The messages of a failure's chain of causes, each once: "Activity task failed: ServiceNow answered 403 ...". */
function failureText(error: WorkflowFailedError): string {
  const messages: string[] = [];
  let cause: unknown = error.cause;
  while (cause instanceof Error) {
    if (cause.message !== '' && !messages.includes(cause.message)) messages.push(cause.message);
    cause = cause.cause;
  }
  return messages.join(': ') || error.message;
}

/** How an export run ended: its result, or its failure with the tables exported before it. */
export type ExportEnding =
  | { readonly kind: 'completed'; readonly result: ExportResult }
  | { readonly kind: 'failed'; readonly failure: string; readonly partial?: PartialExportResult };

/** Waits for the run's end. Errors other than the run's own failure (no such run, no server) are thrown. */
export async function exportEnding(handle: ExportRunHandle): Promise<ExportEnding> {
  try {
    return { kind: 'completed', result: (await handle.result()) as ExportResult };
  } catch (error) {
    if (!(error instanceof WorkflowFailedError)) throw error;
    const partial = partialResultOf(error);
    return { kind: 'failed', failure: failureText(error), ...(partial === undefined ? {} : { partial }) };
  }
}
