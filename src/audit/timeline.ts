import { eventTimeMs, int64, type HistoryEvent } from './histories';
import {
  args,
  decode,
  defined,
  failureFacts,
  failureText,
  first,
  str,
  type Failure,
} from './historyPayloads';
import {
  completed,
  completedActivity,
  continuedAsNew,
  failedActivity,
  isStatusCheck,
  runNumberOf,
  signaled,
  started,
  updateAccepted,
  updateCompleted,
} from './provisioningEntries';
import {
  whoAndWhy,
  type EntryDraft,
  type ScheduledActivity,
  type Timeline,
  type TimelineEntry,
  type TimelineInput,
  type TimelineKind,
  type TimelineRun,
} from './timelineModel';

/**
 * Walks the Temporal histories of all the runs of an order (continue-as-new starts a new run with its own
 * history) and turns the events that matter into timeline entries: activities followed from scheduling to their
 * result, signals, updates, cancel requests and how each run ended. Pure: histories in, entries out. What an
 * event means for a provisioning order is said by provisioningEntries.ts.
 */

/** Builds the timeline of the runs given, oldest first. */
export function buildTimeline(runs: readonly TimelineInput[]): Timeline {
  const entries: TimelineEntry[] = [];
  const summaries: TimelineRun[] = [];
  let workflowId: string | undefined;
  let previousRun = 0;
  let previousEnding: TimelineKind | undefined;
  for (const input of runs) {
    const events = input.history.events ?? [];
    const runNumber = runNumberOf(events[0], previousRun);
    workflowId ??= input.workflowId || undefined;
    workflowId ??= events[0]?.workflowExecutionStartedEventAttributes?.workflowId || undefined;
    const runEntries = runTimeline(events, runNumber, previousEnding === 'continued-as-new');
    workflowId ??= runEntries.orderId;
    entries.push(...runEntries.entries);
    const ending = endingOf(events.at(-1));
    summaries.push(
      defined({
        run: runNumber,
        runId: input.runId || undefined,
        events: events.length,
        startedAt: isoTime(events[0]),
        endedAt: ending === undefined ? undefined : isoTime(events.at(-1)),
        ending,
      }),
    );
    previousRun = runNumber;
    previousEnding = ending;
  }
  return defined({ workflowId, runs: summaries, entries });
}

function isoTime(event: HistoryEvent | undefined): string | undefined {
  const ms = eventTimeMs(event);
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

function endingOf(event: HistoryEvent | undefined): TimelineKind | undefined {
  if (!event) return undefined;
  if (event.workflowExecutionCompletedEventAttributes) return 'completed';
  if (event.workflowExecutionFailedEventAttributes) return 'failed';
  if (event.workflowExecutionCanceledEventAttributes) return 'canceled';
  if (event.workflowExecutionTerminatedEventAttributes) return 'terminated';
  if (event.workflowExecutionTimedOutEventAttributes) return 'timed-out';
  if (event.workflowExecutionContinuedAsNewEventAttributes) return 'continued-as-new';
  return undefined;
}

function runTimeline(
  events: readonly HistoryEvent[],
  run: number,
  afterContinueAsNew: boolean,
): { entries: TimelineEntry[]; orderId?: string } {
  const entries: TimelineEntry[] = [];
  const scheduled = new Map<number, ScheduledActivity>();
  const updates = new Map<string, string>();
  let orderId: string | undefined;
  let checks = 0;
  for (const event of events) {
    const eventId = int64(event.eventId) ?? 0;
    const add = (entry: EntryDraft | undefined) => {
      if (entry === undefined) return;
      entries.push({
        time: isoTime(event) ?? '',
        run,
        eventId,
        kind: entry.kind,
        text: entry.text,
        data: entry.data ?? {},
      });
    };
    const activity = (scheduledEventId: unknown): ScheduledActivity =>
      scheduled.get(int64(scheduledEventId) ?? -1) ?? { type: 'unknown activity', input: undefined };

    if (event.workflowExecutionStartedEventAttributes) {
      add(started(event, run, afterContinueAsNew));
    } else if (event.activityTaskScheduledEventAttributes) {
      const attributes = event.activityTaskScheduledEventAttributes;
      const summary = decode(event.userMetadata?.summary);
      scheduled.set(eventId, {
        type: attributes.activityType?.name ?? 'unknown activity',
        input: first(attributes.input),
        summary: typeof summary === 'string' ? summary : undefined,
      });
    } else if (event.activityTaskStartedEventAttributes) {
      const attributes = event.activityTaskStartedEventAttributes;
      const call = scheduled.get(int64(attributes.scheduledEventId) ?? -1);
      if (call !== undefined) call.attempt = attributes.attempt ?? undefined;
    } else if (event.activityTaskCompletedEventAttributes) {
      const attributes = event.activityTaskCompletedEventAttributes;
      const call = activity(attributes.scheduledEventId);
      const result = first(attributes.result);
      orderId ??= str(call.input, 'orderId');
      if (isStatusCheck(call)) checks += 1;
      add(completedActivity(call, result));
    } else if (event.activityTaskFailedEventAttributes) {
      const attributes = event.activityTaskFailedEventAttributes;
      add(failedActivity(activity(attributes.scheduledEventId), attributes.failure, 'failed'));
    } else if (event.activityTaskTimedOutEventAttributes) {
      const attributes = event.activityTaskTimedOutEventAttributes;
      add(failedActivity(activity(attributes.scheduledEventId), attributes.failure, 'timed out'));
    } else if (event.activityTaskCanceledEventAttributes) {
      const attributes = event.activityTaskCanceledEventAttributes;
      add(
        failedActivity(
          activity(attributes.scheduledEventId),
          { message: 'the activity was canceled' },
          'canceled',
        ),
      );
    } else if (event.workflowExecutionSignaledEventAttributes) {
      const attributes = event.workflowExecutionSignaledEventAttributes;
      add(
        signaled(
          attributes.signalName ?? 'unknown',
          args(attributes.input),
          attributes.identity ?? undefined,
        ),
      );
    } else if (event.workflowExecutionUpdateAcceptedEventAttributes) {
      const request = event.workflowExecutionUpdateAcceptedEventAttributes.acceptedRequest;
      const name = request?.input?.name ?? 'unknown';
      const updateId = request?.meta?.updateId ?? undefined;
      if (updateId !== undefined) updates.set(updateId, name);
      add(updateAccepted(name, args(request?.input?.args), updateId, request?.meta?.identity ?? undefined));
    } else if (event.workflowExecutionUpdateCompletedEventAttributes) {
      const attributes = event.workflowExecutionUpdateCompletedEventAttributes;
      const updateId = attributes.meta?.updateId ?? undefined;
      const name = (updateId === undefined ? undefined : updates.get(updateId)) ?? 'update';
      add(updateCompleted(name, updateId, attributes.outcome));
    } else if (event.workflowExecutionCancelRequestedEventAttributes) {
      const attributes = event.workflowExecutionCancelRequestedEventAttributes;
      const identity = attributes.identity || undefined;
      const cause = attributes.cause || undefined;
      add({
        kind: 'cancel-requested',
        text: whoAndWhy('workflow cancellation requested', identity, cause),
        data: defined({ identity, cause }),
      });
    } else if (event.workflowTaskFailedEventAttributes) {
      const attributes = event.workflowTaskFailedEventAttributes;
      add({
        kind: 'workflow-task-failed',
        text: `workflow task failed: ${failureText(attributes.failure)}`,
        data: defined({
          cause: attributes.cause ?? undefined,
          ...failureFacts(attributes.failure),
        }),
      });
    } else if (event.workflowExecutionContinuedAsNewEventAttributes) {
      add(continuedAsNew(event.workflowExecutionContinuedAsNewEventAttributes, run, events.length, checks));
    } else if (event.workflowExecutionCompletedEventAttributes) {
      add(completed(first(event.workflowExecutionCompletedEventAttributes.result)));
    } else if (event.workflowExecutionFailedEventAttributes) {
      const failure = event.workflowExecutionFailedEventAttributes.failure as Failure;
      add({ kind: 'failed', text: `failed: ${failureText(failure)}`, data: failureFacts(failure) });
    } else if (event.workflowExecutionCanceledEventAttributes) {
      add({ kind: 'canceled', text: 'workflow canceled', data: {} });
    } else if (event.workflowExecutionTerminatedEventAttributes) {
      const attributes = event.workflowExecutionTerminatedEventAttributes;
      const reason = attributes.reason || undefined;
      const identity = attributes.identity || undefined;
      add({
        kind: 'terminated',
        text: whoAndWhy('terminated', identity, reason),
        data: defined({ reason, identity }),
      });
    } else if (event.workflowExecutionTimedOutEventAttributes) {
      add({ kind: 'timed-out', text: 'workflow timed out', data: {} });
    }
  }
  return { entries, orderId };
}
