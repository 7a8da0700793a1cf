import {
  CatalogTaskState,
  fieldsOf,
  fieldKind,
  IncidentState,
  RequestState,
  Severity,
  type TableName,
} from '../servicenow/tables';
import { dataPolicyViolation } from './apiErrors';
import type { RecordValues } from './store';

export interface RuleContext {
  /** Formatted current time. */
  readonly now: string;
  readonly userSysId: string;
}

/** Tables extending task: they share its defaults and rules, and operators act on their records as tickets. */
export const TASK_TABLES = [
  'incident',
  'sc_request',
  'sc_req_item',
  'sc_task',
] as const satisfies TableName[];
export type TaskTable = (typeof TASK_TABLES)[number];
const CATALOG_TABLES: ReadonlySet<TableName> = new Set(['sc_request', 'sc_req_item', 'sc_task']);

/**
 * A new record before the caller's values: dictionary defaults, and booleans `false` rather than empty as the
 * platform stores them. Inserts run the rules with this as the "before" image, so a state given on insert is a
 * transition like any other (an incident inserted as Closed is stamped and needs its resolution fields).
 */
export function newRecord(table: TableName, context: RuleContext): RecordValues {
  const record: RecordValues = Object.fromEntries(
    fieldsOf(table).map((field) => [field, fieldKind(table, field)?.type === 'boolean' ? 'false' : '']),
  );
  if ('active' in record) record.active = 'true';
  if ((TASK_TABLES as readonly TableName[]).includes(table)) {
    Object.assign(record, {
      state: table === 'incident' ? IncidentState.New : CatalogTaskState.Open,
      approval: 'not requested',
      opened_at: context.now,
      opened_by: context.userSysId,
      impact: Severity.Low,
      urgency: Severity.Low,
      priority: priorityOf(Severity.Low, Severity.Low),
    });
  }
  if (table === 'sc_request') record.request_state = RequestState.Requested;
  if (table === 'sc_req_item') record.quantity = '1';
  if (table === 'sys_user_has_role') record.state = 'active';
  return record;
}

/**
 * The platform's before-business rules and data policies for ticket tables. Mutates `after`; throws the data
 * policy's 403 when a mandatory field is missing.
 */
export function applyBusinessRules(
  table: TableName,
  before: Readonly<RecordValues>,
  after: RecordValues,
  context: RuleContext,
): void {
  if (table === 'incident') incidentRules(before, after, context);
  if (CATALOG_TABLES.has(table)) catalogRules(table, before, after, context);
}

/** incident.priority is looked up from impact and urgency (1 High .. 3 Low), 1 Critical .. 5 Planning. */
function priorityOf(impact: string, urgency: string): string {
  const sum = Number(impact) + Number(urgency);
  return Number.isInteger(sum) && sum >= 2 && sum <= 6 ? String(sum - 1) : '';
}

const INCIDENT_RESOLUTION_FIELDS = {
  close_code: 'Resolution code',
  close_notes: 'Resolution notes',
} as const;
const INCIDENT_DONE: readonly string[] = [
  IncidentState.Resolved,
  IncidentState.Closed,
  IncidentState.Canceled,
];

function incidentRules(before: Readonly<RecordValues>, after: RecordValues, context: RuleContext): void {
  const state = after.state ?? '';
  const entering = (target: string) => state === target && before.state !== target;

  if (state === IncidentState.Resolved || state === IncidentState.Closed) {
    const missing = Object.entries(INCIDENT_RESOLUTION_FIELDS).flatMap(([field, label]) =>
      (after[field] ?? '').trim() === '' ? [label] : [],
    );
    if (missing.length > 0) throw dataPolicyViolation(missing);
  }
  if (after.impact !== before.impact || after.urgency !== before.urgency) {
    after.priority = priorityOf(after.impact ?? '', after.urgency ?? '');
  }
  if (entering(IncidentState.Resolved)) {
    after.resolved_at = context.now;
    after.resolved_by = context.userSysId;
  }
  if (entering(IncidentState.Closed)) {
    after.closed_at = context.now;
    after.closed_by = context.userSysId;
    after.active = 'false';
    if (after.resolved_at === '') after.resolved_at = context.now;
    if (after.resolved_by === '') after.resolved_by = context.userSysId;
  }
  if (entering(IncidentState.Canceled)) after.active = 'false';
  if (INCIDENT_DONE.includes(before.state ?? '') && !INCIDENT_DONE.includes(state)) {
    // Reopened: the platform clears the resolution stamps and makes the incident active again.
    after.active = 'true';
    after.resolved_at = '';
    after.resolved_by = '';
  }
}

const CATALOG_CLOSED: readonly string[] = [
  CatalogTaskState.ClosedComplete,
  CatalogTaskState.ClosedIncomplete,
  CatalogTaskState.ClosedSkipped,
];

/** sc_request.request_state implied by a state change made without one. */
const REQUEST_STATE_FOR_STATE: Readonly<Record<string, string>> = {
  [CatalogTaskState.Open]: RequestState.Requested,
  [CatalogTaskState.WorkInProgress]: RequestState.InProcess,
  [CatalogTaskState.ClosedComplete]: RequestState.ClosedComplete,
  [CatalogTaskState.ClosedIncomplete]: RequestState.ClosedIncomplete,
  [CatalogTaskState.ClosedSkipped]: RequestState.ClosedSkipped,
};

/** sc_request.state implied by a request_state change made without one: cancelled and rejected close incomplete. */
const STATE_FOR_REQUEST_STATE: Readonly<Record<string, string>> = {
  [RequestState.Requested]: CatalogTaskState.Open,
  [RequestState.InProcess]: CatalogTaskState.WorkInProgress,
  [RequestState.ClosedComplete]: CatalogTaskState.ClosedComplete,
  [RequestState.ClosedIncomplete]: CatalogTaskState.ClosedIncomplete,
  [RequestState.ClosedCancelled]: CatalogTaskState.ClosedIncomplete,
  [RequestState.ClosedRejected]: CatalogTaskState.ClosedIncomplete,
  [RequestState.ClosedSkipped]: CatalogTaskState.ClosedSkipped,
};

function catalogRules(
  table: TableName,
  before: Readonly<RecordValues>,
  after: RecordValues,
  context: RuleContext,
): void {
  if (table === 'sc_request') {
    const stateChanged = after.state !== before.state;
    const requestStateChanged = after.request_state !== before.request_state;
    if (requestStateChanged && !stateChanged) {
      after.state = STATE_FOR_REQUEST_STATE[after.request_state ?? ''] ?? after.state ?? '';
    } else if (stateChanged && !requestStateChanged) {
      after.request_state = REQUEST_STATE_FOR_STATE[after.state ?? ''] ?? after.request_state ?? '';
    }
  }
  const wasClosed = CATALOG_CLOSED.includes(before.state ?? '');
  const isClosed = CATALOG_CLOSED.includes(after.state ?? '');
  if (isClosed && !wasClosed) {
    after.active = 'false';
    after.closed_at = context.now;
    after.closed_by = context.userSysId;
  }
  if (wasClosed && !isClosed) {
    after.active = 'true';
    after.closed_at = '';
    after.closed_by = '';
  }
}
