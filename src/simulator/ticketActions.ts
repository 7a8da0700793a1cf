import { CatalogTaskState, IncidentState, RequestState, type TableName } from '../servicenow/tables';
import { ApiError } from './apiErrors';

/** What an operator can do to a ticket, acting as a fulfiller through the same business rules as the API. */
export const TICKET_ACTIONS = ['work', 'resolve', 'close', 'cancel'] as const;
export type TicketAction = (typeof TICKET_ACTIONS)[number];

/** How a catalog ticket is closed; incidents only close `complete`. */
export const CLOSE_OUTCOMES = ['complete', 'incomplete', 'skipped', 'rejected'] as const;
export type CloseOutcome = (typeof CLOSE_OUTCOMES)[number];

export interface TicketActionRequest {
  readonly action: TicketAction;
  readonly outcome?: CloseOutcome;
  /** incident close_code; defaults to the usual "Solved (Permanently)". */
  readonly code?: string;
  readonly notes?: string;
  /** user_name of the fulfiller; defaults to the admin. */
  readonly by?: string;
}

const DEFAULT_CLOSE_CODE = 'Solved (Permanently)';

const DEFAULT_NOTES: Readonly<Record<TicketAction, string>> = {
  work: 'Work started by the simulator operator',
  resolve: 'Resolved by the simulator operator',
  close: 'Closed by the simulator operator',
  cancel: 'Canceled by the simulator operator',
};

const CATALOG_CLOSE: Readonly<Record<CloseOutcome, Readonly<Record<string, string>>>> = {
  complete: { state: CatalogTaskState.ClosedComplete },
  incomplete: { state: CatalogTaskState.ClosedIncomplete },
  skipped: { state: CatalogTaskState.ClosedSkipped },
  // The business rules derive sc_request.state from request_state; other catalog tables keep the explicit state.
  rejected: {
    state: CatalogTaskState.ClosedIncomplete,
    request_state: RequestState.ClosedRejected,
    approval: 'rejected',
  },
};

/**
 * The field values an action writes. Business rules do the rest (stamps, active, request_state), exactly as when
 * a client writes the same values through the Table API.
 */
export function actionChanges(table: TableName, request: TicketActionRequest): Record<string, string> {
  const notes = request.notes ?? DEFAULT_NOTES[request.action];
  if (table === 'incident') {
    if (request.outcome !== undefined && request.outcome !== 'complete') {
      throw new ApiError(400, `An incident has no '${request.outcome}' outcome; cancel it instead`);
    }
    const resolution = { close_code: request.code ?? DEFAULT_CLOSE_CODE, close_notes: notes };
    switch (request.action) {
      case 'work':
        return { state: IncidentState.InProgress, ...workNote(request.notes) };
      case 'resolve':
        return { state: IncidentState.Resolved, ...resolution };
      case 'close':
        return { state: IncidentState.Closed, ...resolution };
      case 'cancel':
        return { state: IncidentState.Canceled, ...workNote(request.notes) };
    }
  }
  if (request.code !== undefined) throw new ApiError(400, 'Only incidents take a close code');
  switch (request.action) {
    case 'work':
      return { state: CatalogTaskState.WorkInProgress, ...workNote(request.notes) };
    case 'resolve':
      throw new ApiError(400, `Only incidents are resolved; close ${table} records with an outcome`);
    case 'close':
      return { ...CATALOG_CLOSE[request.outcome ?? 'complete'], close_notes: notes };
    case 'cancel':
      return {
        state: CatalogTaskState.ClosedIncomplete,
        request_state: RequestState.ClosedCancelled,
        close_notes: notes,
      };
  }
}

function workNote(notes: string | undefined): Record<string, string> {
  return notes === undefined ? {} : { work_notes: notes };
}
