import { ServiceNowError } from './errors';
import type { CallOptions, ReadOptions, Row } from './tableApi';
import { CatalogTaskState, IncidentState, RequestState, type TicketTable } from './tables';

/** What the connector needs to know about a ticket; serialisable, free of credentials. */
export interface TicketSnapshot {
  readonly table: TicketTable;
  readonly sysId: string;
  readonly number: string;
  /** The raw `state` code ("7"), and its label as the instance displays it ("Closed"). */
  readonly state: string;
  readonly stateLabel: string;
  /** `sc_request.request_state` (`closed_cancelled`...); undefined for incidents. */
  readonly requestState?: string;
  readonly active: boolean;
  readonly correlationId: string;
  readonly closeCode?: string;
  readonly closeNotes?: string;
  readonly closedAt?: string;
  readonly closedBy?: { readonly sysId: string; readonly name: string };
  readonly updatedOn: string;
  readonly modCount: number;
}

const COMMON_FIELDS = [
  'sys_id',
  'number',
  'state',
  'active',
  'correlation_id',
  'close_notes',
  'closed_at',
  'closed_by',
  'sys_updated_on',
  'sys_mod_count',
] as const;

/** Only the fields a status check needs: status reads of thousands of tickets must stay cheap. */
export const TICKET_FIELDS: Readonly<Record<TicketTable, readonly string[]>> = {
  incident: [...COMMON_FIELDS, 'close_code'],
  sc_request: [...COMMON_FIELDS, 'request_state'],
};

/** How tickets are read: the status fields only, with display values for state labels and names. */
export function ticketRead(table: TicketTable, options: CallOptions): ReadOptions {
  return { signal: options.signal, fields: TICKET_FIELDS[table], displayValues: true };
}

/** The field values that cancel an open ticket of each table. */
export function cancellationValues(table: TicketTable): Record<string, string> {
  return table === 'incident'
    ? { state: IncidentState.Canceled }
    : { state: CatalogTaskState.ClosedIncomplete, request_state: RequestState.ClosedCancelled };
}

const nonEmpty = (value: string | undefined) => (value === undefined || value === '' ? undefined : value);

export function toTicketSnapshot(table: TicketTable, row: Row): TicketSnapshot {
  const sysId = row.sys_id;
  const number = row.number;
  if (sysId === undefined || number === undefined || row.state === undefined) {
    throw new ServiceNowError({
      kind: 'invalid-response',
      operation: 'read',
      table,
      record: sysId,
      reason: 'the ticket has no sys_id, number or state (is the API user allowed to read them?)',
    });
  }
  const closedBy = nonEmpty(row.closed_by);
  return {
    table,
    sysId,
    number,
    state: row.state,
    stateLabel: row.dv_state ?? row.state,
    requestState: table === 'sc_request' ? row.request_state : undefined,
    active: row.active === 'true',
    correlationId: row.correlation_id ?? '',
    closeCode: nonEmpty(row.close_code),
    closeNotes: nonEmpty(row.close_notes),
    closedAt: nonEmpty(row.closed_at),
    closedBy: closedBy === undefined ? undefined : { sysId: closedBy, name: row.dv_closed_by ?? closedBy },
    updatedOn: row.sys_updated_on ?? '',
    modCount: Number(row.sys_mod_count ?? '0'),
  };
}
