/**
 * The ServiceNow facts an order is judged by: which tables hold tickets, what a sys_id looks like, and the state
 * codes of those tables. Workflow code imports this module: no Node built-ins, no I/O.
 */

/** The tables a provisioning ticket can be opened in. */
export const TICKET_TABLES = ['incident', 'sc_request'] as const;
export type TicketTable = (typeof TICKET_TABLES)[number];

const SYS_ID = /^[0-9a-f]{32}$/;

/** sys_ids are 32 lowercase hex characters. */
export function isSysId(value: string): boolean {
  return SYS_ID.test(value);
}

/** incident.state */
export const IncidentState = {
  New: '1',
  InProgress: '2',
  OnHold: '3',
  Resolved: '6',
  Closed: '7',
  Canceled: '8',
} as const;

/** state of task-based catalog tables (sc_request, sc_req_item, sc_task) */
export const CatalogTaskState = {
  Pending: '-5',
  Open: '1',
  WorkInProgress: '2',
  ClosedComplete: '3',
  ClosedIncomplete: '4',
  ClosedSkipped: '7',
} as const;

/** sc_request.request_state */
export const RequestState = {
  Requested: 'requested',
  InProcess: 'in_process',
  ClosedComplete: 'closed_complete',
  ClosedIncomplete: 'closed_incomplete',
  ClosedCancelled: 'closed_cancelled',
  ClosedRejected: 'closed_rejected',
  ClosedSkipped: 'closed_skipped',
} as const;
