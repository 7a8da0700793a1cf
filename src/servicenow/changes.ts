import { isServiceNowDateTime } from '../export/timestamps';
import type { ServiceNowClient } from './client';
import { EncodedQuery } from './encodedQuery';
import { ServiceNowError } from './errors';
import type { CallOptions, Row } from './tableApi';
import { isSysId, type TicketTable } from './tables';
import { CORRELATION_DISPLAY } from './ticketCreation';

/** One version of one of the connector's tickets, as the sweep reads it. */
export interface TicketChange {
  readonly sysId: string;
  readonly number: string;
  /** The order id the ticket was opened for; anything a fulfiller typed there, too, so it is checked by the caller. */
  readonly correlationId: string;
  readonly sysModCount: number;
  /** `sys_updated_on`, `YYYY-MM-DD HH:MM:SS` UTC. */
  readonly updatedOn: string;
}

/** Where a read stands: the last row of a page, in (`sys_updated_on`, `sys_id`) order. */
export interface ChangePosition {
  readonly updatedOn: string;
  readonly sysId: string;
}

export interface ChangePage {
  readonly changes: readonly TicketChange[];
  /** The page's last row: the read resumes after it. */
  readonly position: ChangePosition;
}

export interface ChangeReadOptions extends CallOptions {
  /** Rows per call. */
  readonly pageSize: number;
  /** Resume after this row (heartbeat details of an earlier attempt) instead of starting at `since`. */
  readonly after?: ChangePosition;
}

const CHANGE_FIELDS = [
  'sys_id',
  'number',
  'correlation_id',
  'correlation_display',
  'sys_mod_count',
  'sys_updated_on',
] as const;

const OURS = EncodedQuery.over(['correlation_display'])
  .where('correlation_display', '=', CORRELATION_DISPLAY)
  .toParsed();

/**
 * The connector's tickets of `table` changed at or after `since`, page by page. Keyset paging on
 * (`sys_updated_on`, `sys_id`) rather than on `sys_id` alone: a ticket updated while the read runs moves ahead of
 * the cursor and is read again with its new version, where with `sys_id` order one behind the cursor would be
 * missed until the next sweep. Never offsets, which skip rows under concurrent writes.
 *
 * Every row is checked against the query (ServiceNow drops a term it does not understand, which would widen the
 * read to every ticket of the table): one that does not match is a `mismatch` error, not a row to skip.
 */
export async function* ticketChangesSince(
  client: ServiceNowClient,
  table: TicketTable,
  since: string,
  options: ChangeReadOptions,
): AsyncGenerator<ChangePage> {
  const { pageSize, after, signal } = options;
  const pages = client.streamChangedSince(table, since, {
    fields: CHANGE_FIELDS,
    filter: OURS,
    pageSize,
    ...(after === undefined ? {} : { after }),
    ...(signal === undefined ? {} : { signal }),
  });
  const from = after?.updatedOn ?? since;
  for await (const page of pages) {
    const changes = page.rows.map((row) => toChange(row, table, from));
    const last = changes.at(-1);
    if (last === undefined) return;
    yield { changes, position: { updatedOn: last.updatedOn, sysId: last.sysId } };
  }
}

function toChange(row: Row, table: TicketTable, from: string): TicketChange {
  const sysId = row.sys_id ?? '';
  const number = row.number ?? '';
  const record = number === '' ? sysId : number;
  const fail = (kind: 'mismatch' | 'invalid-response', reason: string) =>
    new ServiceNowError({ kind, operation: 'list', table, record, reason });
  const display = row.correlation_display ?? '';
  const updatedOn = row.sys_updated_on ?? '';
  // ServiceNow compares text case-insensitively: a differently cased tag matched the query as written.
  if (display.toLowerCase() !== CORRELATION_DISPLAY) {
    throw fail('mismatch', `a ticket without correlation_display '${CORRELATION_DISPLAY}' came back`);
  }
  if (!isServiceNowDateTime(updatedOn) || updatedOn < from) {
    throw fail('mismatch', `a ticket updated before ${from} came back`);
  }
  if (!isSysId(sysId)) throw fail('invalid-response', 'a ticket came back without a valid sys_id');
  const sysModCount = row.sys_mod_count ?? '';
  if (!/^\d{1,9}$/.test(sysModCount)) {
    throw fail('invalid-response', 'a ticket came back without a sys_mod_count (is it hidden by an ACL?)');
  }
  return {
    sysId,
    number,
    correlationId: row.correlation_id ?? '',
    sysModCount: Number(sysModCount),
    updatedOn,
  };
}
