import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

const { EventType } = temporal.api.enums.v1;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** Progress a worker made: a workflow task or an activity completed. */
const PROGRESS = new Set<temporal.api.enums.v1.EventType>([
  EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
  EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
]);

/** What the history of an order's latest run says about its retries and its progress over time. */
export interface OrderHistory {
  readonly workflowId: string;
  /** Epoch ms of every event that shows a worker's progress, in order. */
  readonly progressAt: readonly number[];
  /** Activity attempts beyond the first (retries after a failure or a timeout). */
  readonly activityRetries: number;
  /** The most attempts one activity needed. */
  readonly maxAttempt: number;
  readonly workflowTaskTimeouts: number;
  readonly workflowTaskFailures: number;
  /**
   * Epoch ms at which work lost with a worker or a server restart was picked up again: an activity attempt
   * that followed a timed-out one (heartbeat or start-to-close), or a workflow task that followed a timed-out
   * one. Retries after an error the peer answered are not lost work and are left out.
   */
  readonly lostWorkResumedAt: readonly number[];
}

function eventTimeMs(event: HistoryEvent): number {
  const seconds = event.eventTime?.seconds;
  const whole = typeof seconds === 'number' ? seconds : (seconds?.toNumber() ?? 0);
  return whole * 1000 + Math.floor((event.eventTime?.nanos ?? 0) / 1e6);
}

export async function orderHistory(client: Client, workflowId: string): Promise<OrderHistory> {
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const attempts = events.map((event) => event.activityTaskStartedEventAttributes?.attempt ?? 1);
  const count = (type: temporal.api.enums.v1.EventType) =>
    events.filter((event) => event.eventType === type).length;
  return {
    workflowId,
    progressAt: events
      .filter((event) => event.eventType != null && PROGRESS.has(event.eventType))
      .map(eventTimeMs),
    activityRetries: attempts.reduce((sum, attempt) => sum + attempt - 1, 0),
    maxAttempt: Math.max(1, ...attempts),
    workflowTaskTimeouts: count(EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT),
    workflowTaskFailures: count(EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED),
    lostWorkResumedAt: lostWorkResumedAt(events),
  };
}

function lostWorkResumedAt(events: readonly HistoryEvent[]): number[] {
  const resumed: number[] = [];
  let workflowTaskTimedOut = false;
  for (const event of events) {
    const started = event.activityTaskStartedEventAttributes;
    if (started != null && (started.attempt ?? 1) > 1 && started.lastFailure?.timeoutFailureInfo != null) {
      resumed.push(eventTimeMs(event));
    }
    if (event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT) workflowTaskTimedOut = true;
    if (event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED && workflowTaskTimedOut) {
      resumed.push(eventTimeMs(event));
      workflowTaskTimedOut = false;
    }
  }
  return resumed;
}

/**
 * How long after `sinceMs` lost work of the order was picked up again, for work lost by then (undefined when it
 * lost none after `sinceMs`).
 */
export function lostWorkResumedAfter(history: OrderHistory, sinceMs: number): number | undefined {
  const first = history.lostWorkResumedAt.find((at) => at > sinceMs);
  return first === undefined ? undefined : first - sinceMs;
}

/** How long after `sinceMs` the order first made progress again (undefined if it never did). */
export function resumedAfter(history: OrderHistory, sinceMs: number): number | undefined {
  const first = history.progressAt.find((at) => at > sinceMs);
  return first === undefined ? undefined : first - sinceMs;
}
