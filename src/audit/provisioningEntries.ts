import type { HistoryEvent } from './histories';
import {
  args,
  bool,
  decode,
  defined,
  failureFacts,
  failureText,
  first,
  get,
  isRecord,
  num,
  str,
  type Failure,
  type Json,
  type Payloads,
} from './historyPayloads';
import { plural, whoAndWhy, type EntryDraft, type ScheduledActivity } from './timelineModel';
import { formatDuration } from '../contract/durations';

/**
 * What the events of a provisioning order's history mean, as timeline entries: the order received, the plan,
 * the ticket opened, checked, reminded and canceled, the assignment recorded, signals and updates of the
 * workflow contract, and the result. Payloads may come from any release of the workflow: every field is read as
 * optional.
 */

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

/** The workflow's own run counter, carried through continue-as-new; else the next after the previous run. */
export function runNumberOf(started: HistoryEvent | undefined, previous: number): number {
  const carried = started?.workflowExecutionStartedEventAttributes?.input;
  const run = num(args(carried)[1], 'run');
  return run !== undefined && Number.isInteger(run) && run >= 0 ? run + 1 : previous + 1;
}

export function isStatusCheck(call: ScheduledActivity): boolean {
  return call.type === 'checkTicket';
}

export function continuedAsNew(
  attributes: NonNullable<HistoryEvent['workflowExecutionContinuedAsNewEventAttributes']>,
  run: number,
  eventsInRun: number,
  checksInRun: number,
): EntryDraft {
  const carried = args(attributes.input)[1];
  const total = num(carried, 'checks');
  return {
    kind: 'continued-as-new',
    text:
      `run ${run} continued as new after ${plural(eventsInRun, 'event')}` +
      (total === undefined ? '' : ` (${plural(total, 'check')} so far)`),
    data: defined({
      newRunId: attributes.newExecutionRunId || undefined,
      events: eventsInRun,
      checksInRun,
      checks: total,
    }),
  };
}

export function started(
  event: HistoryEvent,
  run: number,
  afterContinueAsNew: boolean,
): EntryDraft | undefined {
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

export function completedActivity(call: ScheduledActivity, result: Json): EntryDraft {
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

export function failedActivity(
  call: ScheduledActivity,
  failure: Failure,
  how: 'failed' | 'timed out' | 'canceled',
): EntryDraft {
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

export function signaled(name: string, values: Json[], identity: string | undefined): EntryDraft {
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

export function updateAccepted(
  name: string,
  values: Json[],
  updateId: string | undefined,
  identity: string | undefined,
): EntryDraft {
  const [request] = values;
  if (name === 'cancel') {
    const reason = str(request, 'reason');
    const requestedBy = str(request, 'requestedBy');
    return {
      kind: 'update',
      text: whoAndWhy('cancel requested', requestedBy, reason),
      data: defined({ name, reason, requestedBy, updateId, identity }),
    };
  }
  return {
    kind: 'update',
    text: `update ${name} accepted`,
    data: defined({ name, args: values, updateId, identity }),
  };
}

export function updateCompleted(
  name: string,
  updateId: string | undefined,
  outcome: { success?: Payloads; failure?: unknown } | null | undefined,
): EntryDraft {
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

export function completed(result: Json): EntryDraft {
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
