import { z } from 'zod';
import { ServiceNowError } from './errors';
import type { CallOptions, TableApi } from './tableApi';
import { fieldKind, isSysId, type TicketTable } from './tables';
import { cancellationValues, ticketRead, toTicketSnapshot, type TicketSnapshot } from './tickets';

export interface CreateTicketRequest {
  readonly table: TicketTable;
  /** Our key for the ticket; stored in `correlation_id`, it is what makes creation idempotent. */
  readonly correlationId: string;
  readonly fields: Readonly<Record<string, string>>;
  /** For `sc_request`: order this catalog item through `order_now` instead of inserting into the Table API. */
  readonly catalogItemSysId?: string;
}

export interface CreatedTicket {
  readonly ticket: TicketSnapshot;
  /** False when a ticket with this correlation id already existed (a retry after a crash or a timeout). */
  readonly created: boolean;
  /**
   * Other tickets found with the same correlation id (left by concurrent or timed-out attempts), and whether
   * they could be retired: canceled with a note naming the real ticket, their correlation id cleared.
   */
  readonly duplicates: readonly { readonly number: string; readonly retired: boolean }[];
}

/** `correlation_display` tags the tickets this connector opened, for ServiceNow-side reports and filters. */
export const CORRELATION_DISPLAY = 'snow-ticket-connector';
/** More tickets than this for one correlation id means the lookup is not doing what it says. */
const MAX_TICKETS_PER_CORRELATION_ID = 20;

const orderAnswer = z.object({
  result: z.object({ sys_id: z.string().refine(isSysId) }),
});

/**
 * Creates a ticket at most once per correlation id: looks it up, creates it only when absent, and looks again.
 * Whatever attempts raced (a timed-out attempt still running, a retry), every one of them converges on the same
 * ticket, the oldest, and retires the others.
 */
export async function createTicketOnce(
  api: TableApi,
  request: CreateTicketRequest,
  options: CallOptions = {},
): Promise<CreatedTicket> {
  const { table, correlationId } = request;
  checkCorrelationId(table, correlationId);
  const existing = await findByCorrelationId(api, table, correlationId, options);
  if (existing.length > 0) return converge(api, request, existing, undefined, options);

  const created = await insert(api, request, options);
  if (created.correlationId !== correlationId) {
    // A business rule or field ACL rewrote it: no lookup would ever find this ticket, and every retry would
    // open another one.
    await retireQuietly(api, table, created, `Created without its correlation id ${correlationId}.`, options);
    throw new ServiceNowError({
      kind: 'mismatch',
      operation: 'create',
      table,
      record: created.number,
      reason:
        'ServiceNow did not store the correlation id (check business rules and field ACLs on correlation_id)',
    });
  }
  const found = await findByCorrelationId(api, table, correlationId, options);
  // Empty: not even our own ticket is found by its correlation id, so lookups cannot be trusted.
  if (found.length === 0) {
    await retireQuietly(api, table, created, `Not found again by correlation id ${correlationId}.`, options);
    throw new ServiceNowError({
      kind: 'mismatch',
      operation: 'find',
      table,
      record: created.number,
      reason: 'the ticket just created is not found by its correlation id',
    });
  }
  return converge(api, request, found, created, options);
}

/** Tickets carrying this correlation id, oldest first (creation time, then number), checked to really carry it. */
export async function findByCorrelationId(
  api: TableApi,
  table: TicketTable,
  correlationId: string,
  options: CallOptions = {},
): Promise<TicketSnapshot[]> {
  // `number` breaks ties within the second `sys_created_on` holds, in creation order, so every attempt agrees.
  const query = api
    .query(table, 'find')
    .where('correlation_id', '=', correlationId)
    .orderBy('sys_created_on')
    .orderBy('number');
  const rows = await api.list(table, query, MAX_TICKETS_PER_CORRELATION_ID, ticketRead(table, options));
  // `=` is case-insensitive in ServiceNow and a dropped term matches everything: keep exact matches only.
  return rows
    .map((row) => toTicketSnapshot(table, row))
    .filter((ticket) => ticket.correlationId === correlationId);
}

/** The oldest ticket is the one; the others are retired, best effort (a later attempt retries what failed). */
async function converge(
  api: TableApi,
  request: CreateTicketRequest,
  tickets: readonly TicketSnapshot[],
  created: TicketSnapshot | undefined,
  options: CallOptions,
): Promise<CreatedTicket> {
  const [winner, ...others] = tickets as [TicketSnapshot, ...TicketSnapshot[]];
  const note = `Duplicate of ${winner.number} (same correlation id ${request.correlationId}); retired by the connector.`;
  const duplicates = [];
  for (const duplicate of others) {
    duplicates.push({
      number: duplicate.number,
      retired: await retireQuietly(api, request.table, duplicate, note, options),
    });
  }
  return { ticket: winner, created: winner.sysId === created?.sysId, duplicates };
}

/**
 * Cancels a duplicate (if still open) and clears its correlation id, so that lookups no longer see it. Returns
 * false when ServiceNow refused: the ticket stays a candidate and the next attempt tries again.
 */
async function retireQuietly(
  api: TableApi,
  table: TicketTable,
  ticket: Pick<TicketSnapshot, 'sysId' | 'active'>,
  note: string,
  options: CallOptions,
): Promise<boolean> {
  const values = {
    ...(ticket.active ? cancellationValues(table) : {}),
    correlation_id: '',
    work_notes: note,
  };
  try {
    await api.update(table, ticket.sysId, values, { signal: options.signal, fields: ['sys_id'] });
    return true;
  } catch (error) {
    if (error instanceof ServiceNowError && error.kind !== 'canceled') return false;
    throw error;
  }
}

async function insert(
  api: TableApi,
  request: CreateTicketRequest,
  options: CallOptions,
): Promise<TicketSnapshot> {
  const { table, correlationId } = request;
  const values = {
    ...request.fields,
    correlation_id: correlationId,
    correlation_display: CORRELATION_DISPLAY,
  };
  if (table === 'sc_request' && request.catalogItemSysId !== undefined) {
    return orderCatalogItem(api, request.catalogItemSysId, values, options);
  }
  return toTicketSnapshot(table, await api.create(table, values, ticketRead(table, options)));
}

/**
 * `order_now` has no idempotency key, so the request is tagged with the correlation id right after. If tagging
 * fails the untagged request is retired, so that the retry's new order is the only live one. A crash between
 * the order and the tag still leaves one untagged request behind: prefer the Table API where the process allows.
 */
async function orderCatalogItem(
  api: TableApi,
  itemSysId: string,
  values: Readonly<Record<string, string>>,
  options: CallOptions,
): Promise<TicketSnapshot> {
  if (!isSysId(itemSysId)) {
    throw new ServiceNowError({
      kind: 'invalid-request',
      operation: 'order',
      table: 'sc_cat_item',
      reason: 'the catalog item id must be a sys_id',
    });
  }
  const answer = orderAnswer.safeParse(
    await api.post(
      `/api/sn_sc/servicecatalog/items/${itemSysId}/order_now`,
      { sysparm_quantity: '1', variables: {} },
      { operation: 'order', table: 'sc_request', signal: options.signal },
    ),
  );
  if (!answer.success) {
    throw new ServiceNowError({
      kind: 'invalid-response',
      operation: 'order',
      table: 'sc_request',
      reason: 'order_now did not return the request sys_id',
    });
  }
  const sysId = answer.data.result.sys_id;
  try {
    return toTicketSnapshot(
      'sc_request',
      await api.update('sc_request', sysId, values, ticketRead('sc_request', options)),
    );
  } catch (error) {
    const note = 'Ordered but could not be tagged with its correlation id; retired by the connector.';
    await retireQuietly(api, 'sc_request', { sysId, active: true }, note, options);
    throw error;
  }
}

/**
 * ServiceNow silently truncates `correlation_id` to its maximum length; a truncated key would never match
 * again, and every retry would open another ticket.
 */
function checkCorrelationId(table: TicketTable, correlationId: string): void {
  const kind = fieldKind(table, 'correlation_id');
  const maxLength = kind?.type === 'string' ? kind.maxLength : undefined;
  const problem =
    correlationId === ''
      ? 'the correlation id is empty'
      : maxLength !== undefined && correlationId.length > maxLength
        ? `the correlation id is ${correlationId.length} characters long; ServiceNow keeps only ${maxLength}`
        : undefined;
  if (problem !== undefined) {
    throw new ServiceNowError({ kind: 'invalid-request', operation: 'create', table, reason: problem });
  }
}
