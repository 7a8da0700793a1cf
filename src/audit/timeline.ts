import { defaultPayloadConverter } from '@temporalio/common';
import { eventTimeMs, int64, type History, type HistoryEvent } from './histories';

/**
 * The audit timeline of a provisioning order: what happened, when and in which run, read from the Temporal
 * histories of all its runs (continue-as-new starts a new run with its own history). Pure: histories in,
 * entries out. Payloads are read with the default (JSON) payload converter and treated as untrusted shapes, so
 * that histories recorded by older versions of the workflow still give a timeline. Failure stack traces are
 * never copied: entries keep failure messages and types only.
 */

export type TimelineKind =
  | 'order-received'
  | 'run-started'
  | 'planned'
  | 'ticket-created'
  | 'check'
  | 'check-failed'
  | 'signal'
  | 'update'
  | 'update-completed'
  | 'reminder'
  | 'reminder-failed'
  | 'cancel-requested'
  | 'ticket-canceled'
  | 'assignment'
  | 'activity'
  | 'activity-failed'
  | 'workflow-task-failed'
  | 'continued-as-new'
  | 'completed'
  | 'failed'
  | 'canceled'
  | 'terminated'
  | 'timed-out';

export interface TimelineEntry {
  /** The event's time, ISO 8601. */
  readonly time: string;
  /** 1 for the first run, +1 at each continue-as-new (or retry) of the workflow. */
  readonly run: number;
  readonly eventId: number;
  readonly kind: TimelineKind;
  /** One readable line. */
  readonly text: string;
  /** The structured facts behind the text, for `--json`. */
  readonly data: Readonly<Record<string, unknown>>;
}

export interface TimelineRun {
  readonly run: number;
  readonly runId?: string;
  readonly events: number;
  readonly startedAt?: string;
  readonly endedAt?: string;
  /** The last event's kind when the run has ended (completed, continued-as-new...); undefined while it runs. */
  readonly ending?: TimelineKind;
}

export interface Timeline {
  readonly workflowId?: string;
  readonly runs: readonly TimelineRun[];
  readonly entries: readonly TimelineEntry[];
}

/** The histories of the runs, oldest first, as `fetchRunHistories` returns them. */
export interface TimelineInput {
  readonly history: History;
  readonly runId?: string;
  readonly workflowId?: string;
}

type Json = unknown;

// ----------------------------------------------------------------------------------------------------------------
// Reading untrusted payloads

type Payloads = { payloads?: readonly unknown[] | null } | null | undefined;

/** A payload's value, or a marker when it cannot be read (an encrypting codec, a binary payload). */
function decode(payload: unknown): Json {
  if (payload === undefined || payload === null) return undefined;
  try {
    return defaultPayloadConverter.fromPayload(payload);
  } catch {
    return { undecodable: true };
  }
}

function args(payloads: Payloads): Json[] {
  return (payloads?.payloads ?? []).map(decode);
}

function first(payloads: Payloads): Json {
  return args(payloads)[0];
}

function get(value: Json, ...path: string[]): Json {
  let current = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
    current = (current as Record<string, Json>)[key];
  }
  return current;
}

function str(value: Json, ...path: string[]): string | undefined {
  const found = get(value, ...path);
  if (typeof found === 'string') return found;
  if (typeof found === 'number') return String(found);
  return undefined;
}

function num(value: Json, ...path: string[]): number | undefined {
  const found = get(value, ...path);
  return typeof found === 'number' ? found : undefined;
}

function bool(value: Json, ...path: string[]): boolean | undefined {
  const found = get(value, ...path);
  return typeof found === 'boolean' ? found : undefined;
}

/** Drops undefined values, so that JSON output and test comparisons stay small. */
function defined<T extends Record<string, unknown>>(record: T): T {
  return Object.fromEntries(Object.entries(record).filter((entry) => entry[1] !== undefined)) as T;
}

type Failure =
  | {
      message?: string | null;
      cause?: Failure | null;
      applicationFailureInfo?: { type?: string | null; nonRetryable?: boolean | null } | null;
      timeoutFailureInfo?: { timeoutType?: unknown } | null;
      canceledFailureInfo?: unknown;
      terminatedFailureInfo?: unknown;
    }
  | null
  | undefined;

/** A failure's message, type and the messages of its causes; never its stack trace or details. */
function failureFacts(failure: Failure): Record<string, unknown> {
  const causes: string[] = [];
  for (let cause = failure?.cause, depth = 0; cause && depth < 5; cause = cause.cause, depth += 1) {
    if (cause.message) causes.push(cause.message);
  }
  return defined({
    message: failure?.message || undefined,
    type: failure?.applicationFailureInfo?.type || undefined,
    nonRetryable: failure?.applicationFailureInfo?.nonRetryable || undefined,
    causes: causes.length > 0 ? causes : undefined,
  });
}

function failureText(failure: Failure): string {
  const facts = failureFacts(failure);
  const causes = (facts.causes as string[] | undefined) ?? [];
  const message = (facts.message as string | undefined) ?? 'no message';
  return [message, ...causes.filter((cause) => cause !== message)].join(': ');
}

// ----------------------------------------------------------------------------------------------------------------
// Texts

function ticketText(ticket: Json): string | undefined {
  const number = str(ticket, 'number');
  if (number === undefined) return undefined;
  const table = str(ticket, 'table');
  return table === undefined ? number : `${number} (${table})`;
}

function closeDetails(status: Json): string[] {
  const parts: string[] = [];
  const closedBy = str(status, 'closedBy');
  const closedAt = str(status, 'closedAt');
  if (closedBy !== undefined || closedAt !== undefined) {
    parts.push(
      `closed${closedBy === undefined ? '' : ` by ${closedBy}`}${closedAt === undefined ? '' : ` at ${closedAt}`}`,
    );
  }
  const closeCode = str(status, 'closeCode');
  const closeNotes = str(status, 'closeNotes');
  if (closeCode !== undefined || closeNotes !== undefined) {
    parts.push([closeCode, closeNotes].filter((part) => part !== undefined).join(': '));
  }
  return parts;
}

export function formatDuration(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0) return `${ms / 1_000}s`;
  return `${ms}ms`;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

// ----------------------------------------------------------------------------------------------------------------
// Building

interface Scheduled {
  readonly type: string;
  readonly input: Json;
  readonly summary?: string;
  attempt?: number;
}

interface Entry {
  readonly kind: TimelineKind;
  readonly text: string;
  readonly data?: Record<string, unknown>;
}

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

/** The workflow's own run counter, carried through continue-as-new; else the next after the previous run. */
function runNumberOf(started: HistoryEvent | undefined, previous: number): number {
  const carried = started?.workflowExecutionStartedEventAttributes?.input;
  const run = num(args(carried)[1], 'run');
  return run !== undefined && Number.isInteger(run) && run >= 0 ? run + 1 : previous + 1;
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
  const scheduled = new Map<number, Scheduled>();
  const updates = new Map<string, string>();
  let orderId: string | undefined;
  let checks = 0;
  for (const event of events) {
    const eventId = int64(event.eventId) ?? 0;
    const add = (entry: Entry | undefined) => {
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
    const activity = (scheduledEventId: unknown): Scheduled =>
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
      if (call.type === 'checkTicket') checks += 1;
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
        text: `workflow cancellation requested${identity === undefined ? '' : ` by ${identity}`}${cause === undefined ? '' : `: ${cause}`}`,
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
      const attributes = event.workflowExecutionContinuedAsNewEventAttributes;
      const carried = args(attributes.input)[1];
      const total = num(carried, 'checks');
      add({
        kind: 'continued-as-new',
        text:
          `run ${run} continued as new after ${plural(events.length, 'event')}` +
          (total === undefined ? '' : ` (${plural(total, 'check')} so far)`),
        data: defined({
          newRunId: attributes.newExecutionRunId || undefined,
          events: events.length,
          checksInRun: checks,
          checks: total,
        }),
      });
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
        text: `terminated${identity === undefined ? '' : ` by ${identity}`}${reason === undefined ? '' : `: ${reason}`}`,
        data: defined({ reason, identity }),
      });
    } else if (event.workflowExecutionTimedOutEventAttributes) {
      add({ kind: 'timed-out', text: 'workflow timed out', data: {} });
    }
  }
  return { entries, orderId };
}

function started(event: HistoryEvent, run: number, afterContinueAsNew: boolean): Entry | undefined {
  const attributes = event.workflowExecutionStartedEventAttributes;
  const [input, carried] = args(attributes?.input);
  const continued = attributes?.continuedExecutionRunId || undefined;
  if (continued !== undefined) {
    // The previous run's continue-as-new entry already marks the boundary.
    if (afterContinueAsNew) return undefined;
    const checks = num(carried, 'checks');
    return {
      kind: 'run-started',
      text: `run ${run} started${checks === undefined ? '' : ` (${plural(checks, 'check')} so far)`}`,
      data: defined({ continuedFromRunId: continued, checks, ticket: get(carried, 'ticket') }),
    };
  }
  const order = get(input, 'order');
  const changeType = str(order, 'ChangeType');
  const resourceType = str(order, 'ResourceType', 'Identifier');
  const assignmentId = str(order, 'AssignedResourceTypeId');
  const connection = str(input, 'connection');
  const summary = decode(event.userMetadata?.summary);
  const identity = attributes?.identity || undefined;
  const described =
    changeType === undefined && resourceType === undefined
      ? `workflow ${attributes?.workflowType?.name ?? 'run'} started`
      : `order received: ${[changeType, resourceType].filter(Boolean).join(' ')}`;
  return {
    kind: 'order-received',
    text:
      described +
      (assignmentId === undefined ? '' : `, assignment ${assignmentId}`) +
      (connection === undefined ? '' : ` (connection ${connection})`),
    data: defined({
      workflowType: attributes?.workflowType?.name ?? undefined,
      taskQueue: attributes?.taskQueue?.name ?? undefined,
      changeType,
      resourceType,
      assignmentId,
      connection,
      summary: typeof summary === 'string' ? summary : undefined,
      identity,
    }),
  };
}

function completedActivity(call: Scheduled, result: Json): Entry {
  const { input } = call;
  const attempts = call.attempt !== undefined && call.attempt > 1 ? call.attempt : undefined;
  const afterAttempts = attempts === undefined ? '' : ` (after ${attempts} attempts)`;
  switch (call.type) {
    case 'planProvisioning': {
      const every = num(result, 'polling', 'maxIntervalMs');
      const firstCheck = num(result, 'polling', 'firstCheckAfterMs');
      const reminder = num(result, 'reminders', 'firstAfterMs');
      const deadline = num(result, 'deadline', 'afterMs');
      const parts = [
        `${str(result, 'table') ?? 'ticket'} ticket planned`,
        firstCheck === undefined ? undefined : `first check after ${formatDuration(firstCheck)}`,
        every === undefined ? undefined : `checks at most ${formatDuration(every)} apart`,
        reminder === undefined ? undefined : `reminders from ${formatDuration(reminder)}`,
        deadline === undefined ? undefined : `deadline ${formatDuration(deadline)}`,
        bool(result, 'synchronisable') === false ? 'not synchronised (closed gives Verified)' : undefined,
      ];
      return {
        kind: 'planned',
        text: parts.filter(Boolean).join(', '),
        data: defined({ policy: result, attempts }),
      };
    }
    case 'openTicket': {
      const ticket = ticketText(result) ?? 'unknown ticket';
      const created = bool(result, 'created');
      const retired = num(result, 'duplicatesRetired') ?? 0;
      const stateLabel = str(result, 'stateLabel');
      const text =
        (created === false
          ? `ticket created by an earlier attempt, found: ${ticket}`
          : `ticket created: ${ticket}`) +
        (stateLabel === undefined ? '' : `, ${stateLabel}`) +
        (retired > 0 ? `; ${plural(retired, 'duplicate')} retired` : '') +
        afterAttempts;
      return {
        kind: 'ticket-created',
        text,
        data: defined({
          number: str(result, 'number'),
          table: str(result, 'table'),
          sysId: str(result, 'sysId'),
          state: str(result, 'state'),
          stateLabel,
          created,
          duplicatesRetired: retired,
          attempts,
        }),
      };
    }
    case 'checkTicket': {
      const number = str(input, 'ticket', 'number');
      const found = bool(result, 'found') !== false;
      const stateLabel = str(result, 'stateLabel') ?? str(result, 'state');
      const details = found ? closeDetails(result) : [];
      return {
        kind: 'check',
        text: found
          ? `check: ticket ${stateLabel ?? 'state unknown'}${details.length > 0 ? ` (${details.join('; ')})` : ''}`
          : `check: ${number === undefined ? 'the ticket' : `ticket ${number}`} was not found`,
        data: defined({ ticket: number, ...(isRecord(result) ? result : {}), attempts }),
      };
    }
    case 'addTicketNote': {
      const number = str(input, 'ticket', 'number');
      return {
        kind: 'reminder',
        text: `reminder noted on ${number ?? 'the ticket'}${afterAttempts}`,
        data: defined({ ticket: number, note: str(input, 'text'), attempts }),
      };
    }
    case 'cancelTicket': {
      const number = str(input, 'ticket', 'number');
      const stateLabel = str(result, 'stateLabel');
      let text: string;
      if (result === undefined || result === null) {
        text =
          number === undefined
            ? 'no ticket to cancel'
            : `ticket ${number} no longer exists: nothing to cancel`;
      } else if (bool(result, 'closedBeforeCancel') === true) {
        const details = closeDetails(result);
        text =
          `${number === undefined ? 'the ticket' : `ticket ${number}`} was already ${stateLabel ?? 'closed'}: left as it is` +
          (details.length > 0 ? ` (${details.join('; ')})` : '');
      } else {
        text = `ticket ${number ?? 'found by correlation id'} canceled${stateLabel === undefined ? '' : ` (${stateLabel})`}`;
      }
      return {
        kind: 'ticket-canceled',
        text: text + afterAttempts,
        data: defined({
          ticket: number,
          note: str(input, 'note'),
          status: result ?? undefined,
          attempts,
        }),
      };
    }
    case 'recordAssignment': {
      const state = str(input, 'state') ?? 'unknown state';
      const number = str(input, 'ticket', 'number');
      const ticketState = str(input, 'ticket', 'state');
      const detail = get(input, 'detail');
      const reason = str(detail, 'reason');
      const parts = [
        number === undefined
          ? undefined
          : `ticket ${number}${ticketState === undefined ? '' : ` ${ticketState}`}`,
        ...closeDetails(detail),
        reason,
      ].filter((part): part is string => part !== undefined && part !== '');
      const applied = bool(result, 'applied');
      return {
        kind: 'assignment',
        text:
          `assignment ${state}${parts.length > 0 ? `: ${parts.join('; ')}` : ''}` +
          (applied === false ? ' (already recorded)' : '') +
          afterAttempts,
        data: defined({
          assignmentId: str(input, 'assignmentId'),
          state,
          ticket: number,
          ticketState,
          closeCode: str(detail, 'closeCode'),
          closeNotes: str(detail, 'closeNotes'),
          closedBy: str(detail, 'closedBy'),
          closedAt: str(detail, 'closedAt'),
          reason,
          at: str(input, 'at'),
          applied,
          attempts,
        }),
      };
    }
    default:
      return {
        kind: 'activity',
        text: `${call.summary ?? call.type} done${afterAttempts}`,
        data: defined({ activity: call.type, summary: call.summary, attempts }),
      };
  }
}

function failedActivity(call: Scheduled, failure: Failure, how: 'failed' | 'timed out' | 'canceled'): Entry {
  const attempts = call.attempt;
  const tries = attempts !== undefined && attempts > 1 ? ` after ${attempts} attempts` : '';
  const message = failureText(failure);
  const data = defined({
    activity: call.type,
    summary: call.summary,
    ticket: str(call.input, 'ticket', 'number'),
    attempts,
    how,
    ...failureFacts(failure),
  });
  switch (call.type) {
    case 'checkTicket':
      return { kind: 'check-failed', text: `check ${how}${tries}: ${message}`, data };
    case 'addTicketNote':
      return { kind: 'reminder-failed', text: `reminder ${how}${tries}: ${message}`, data };
    default:
      return {
        kind: 'activity-failed',
        text: `${call.summary ?? call.type} ${how}${tries}: ${message}`,
        data,
      };
  }
}

function signaled(name: string, values: Json[], identity: string | undefined): Entry {
  const [notice] = values;
  if (name === 'ticketChanged') {
    const source = str(notice, 'source');
    const modCount = num(notice, 'sysModCount');
    const about = [
      source === undefined ? undefined : `from ${source}`,
      modCount === undefined ? undefined : `sys_mod_count ${modCount}`,
    ]
      .filter(Boolean)
      .join(', ');
    return {
      kind: 'signal',
      text: `signal ticketChanged${about === '' ? '' : ` (${about})`}: check at once`,
      data: defined({ name, source, sysModCount: modCount, identity }),
    };
  }
  return { kind: 'signal', text: `signal ${name}`, data: defined({ name, args: values, identity }) };
}

function updateAccepted(
  name: string,
  values: Json[],
  updateId: string | undefined,
  identity: string | undefined,
): Entry {
  const [request] = values;
  if (name === 'cancel') {
    const reason = str(request, 'reason');
    const requestedBy = str(request, 'requestedBy');
    return {
      kind: 'update',
      text: `cancel requested${requestedBy === undefined ? '' : ` by ${requestedBy}`}${reason === undefined ? '' : `: ${reason}`}`,
      data: defined({ name, reason, requestedBy, updateId, identity }),
    };
  }
  return {
    kind: 'update',
    text: `update ${name} accepted`,
    data: defined({ name, args: values, updateId, identity }),
  };
}

function updateCompleted(
  name: string,
  updateId: string | undefined,
  outcome: { success?: Payloads; failure?: unknown } | null | undefined,
): Entry {
  if (outcome?.failure) {
    const failure = outcome.failure as Failure;
    return {
      kind: 'update-completed',
      text: `${name} update failed: ${failureText(failure)}`,
      data: defined({ name, updateId, ...failureFacts(failure) }),
    };
  }
  const result = first(outcome?.success);
  const state = str(result, 'provisioningState');
  const resolution = str(result, 'resolution');
  return {
    kind: 'update-completed',
    text: `${name} update answered${state === undefined ? '' : `: ${[state, resolution?.replace(/-/g, ' ')].filter(Boolean).join(', ')}`}`,
    data: defined({ name, updateId, provisioningState: state, resolution }),
  };
}

function completed(result: Json): Entry {
  const state = str(result, 'provisioningState');
  if (state === undefined) return { kind: 'completed', text: 'completed', data: defined({ result }) };
  const resolution = str(result, 'resolution');
  const ticket = get(result, 'ticket');
  const number = str(ticket, 'number');
  const stateLabel = str(ticket, 'stateLabel');
  const reason = str(result, 'reason');
  const checks = num(result, 'checks');
  const parts = [
    number === undefined
      ? 'no ticket'
      : `ticket ${number}${stateLabel === undefined ? '' : ` ${stateLabel}`}`,
    ...closeDetails(result),
    reason,
    checks === undefined ? undefined : plural(checks, 'check'),
  ].filter((part): part is string => part !== undefined && part !== '');
  return {
    kind: 'completed',
    text: `completed: ${state}${resolution === undefined ? '' : ` (${resolution.replace(/-/g, ' ')})`}; ${parts.join('; ')}`,
    data: defined({
      provisioningState: state,
      resolution,
      ticket: number,
      ticketState: stateLabel,
      closeCode: str(result, 'closeCode'),
      closeNotes: str(result, 'closeNotes'),
      closedBy: str(result, 'closedBy'),
      closedAt: str(result, 'closedAt'),
      reason,
      checks,
      result,
    }),
  };
}

function isRecord(value: Json): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ----------------------------------------------------------------------------------------------------------------
// Rendering

export interface RenderOptions {
  /** Runs of at least this many consecutive checks with the same result become one line (default 3; 0: never). */
  readonly collapseChecksFrom?: number;
}

/** The timeline as text, one line per entry; runs of unchanged checks are collapsed ("12 checks, ticket New"). */
export function renderTimeline(timeline: Timeline, options: RenderOptions = {}): string {
  const collapseFrom = options.collapseChecksFrom ?? 3;
  const lines: string[] = [];
  const runs = timeline.runs.length;
  const events = timeline.runs.reduce((total, run) => total + run.events, 0);
  const last = timeline.runs.at(-1);
  lines.push(
    `Workflow ${timeline.workflowId ?? '(id unknown)'}: ${plural(runs, 'run')}, ${plural(events, 'event')}` +
      (last !== undefined && last.ending === undefined ? ', still running' : ''),
  );
  const line = (time: string, run: number, text: string) => `${time}  run ${run}  ${text}`;
  const { entries } = timeline;
  for (let i = 0; i < entries.length;) {
    const entry = entries[i] as TimelineEntry;
    let j = i + 1;
    if (entry.kind === 'check' && collapseFrom > 0) {
      while (j < entries.length && sameCheck(entry, entries[j] as TimelineEntry)) j += 1;
    }
    const count = j - i;
    if (entry.kind === 'check' && collapseFrom > 0 && count >= Math.max(2, collapseFrom)) {
      const lastCheck = entries[j - 1] as TimelineEntry;
      const label = entry.text.replace(/^check: /, '');
      lines.push(line(entry.time, entry.run, `${count} checks, ${label} (until ${lastCheck.time})`));
      i = j;
    } else {
      lines.push(line(entry.time, entry.run, entry.text));
      i += 1;
    }
  }
  return `${lines.join('\n')}\n`;
}

function sameCheck(a: TimelineEntry, b: TimelineEntry): boolean {
  return b.kind === 'check' && b.run === a.run && b.text === a.text;
}
