import { z } from 'zod';
import { createAuthenticator, type ServiceNowCredentials } from './auth';
import type { ParsedQuery } from './encodedQuery';
import { SecretRedactor, ServiceNowError } from './errors';
import { TableApi, type CallOptions, type Page, type ReadOptions, type Row } from './tableApi';
import {
  CatalogTaskState,
  fieldKind,
  IncidentState,
  RequestState,
  type TableName,
  type TicketTable,
} from './tables';
import { TICKET_FIELDS, toTicketSnapshot, type TicketSnapshot } from './tickets';
import { HttpTransport } from './transport';

export interface ServiceNowClientOptions {
  /** The Table API base URL (`https://instance.service-now.com/api/now/table`). */
  readonly tableApiUrl: string;
  readonly credentials: ServiceNowCredentials;
  /** Rows per page (`ResponseSizeLimit`). */
  readonly pageSize?: number;
  readonly timeoutMs?: number;
  readonly maxResponseBytes?: number;
  readonly now?: () => Date;
}

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
}

export type NoteKind = 'work_notes' | 'comments';

/** `correlation_display` tags the tickets this connector opened, for ServiceNow-side reports and filters. */
export const CORRELATION_DISPLAY = 'snow-ticket-connector';
/** Keeps `sys_idIN...` URLs well under common 8 KB URL limits. */
const STATUS_BATCH = 100;

const orderAnswer = z.object({
  result: z.object({ sys_id: z.string().regex(/^[0-9a-f]{32}$/), number: z.string().optional() }),
});

/**
 * Everything the connector does in ServiceNow. Nothing else builds ServiceNow URLs or queries. Errors are
 * `ServiceNowError`s that say whether a retry may help; retrying is left to the caller (Temporal activities).
 */
export class ServiceNowClient {
  private readonly api: TableApi;
  private readonly redactor = new SecretRedactor();

  constructor(options: ServiceNowClientOptions) {
    const now = options.now ?? (() => new Date());
    const transport = new HttpTransport({
      timeoutMs: options.timeoutMs ?? 30_000,
      maxResponseBytes: options.maxResponseBytes ?? 64 * 1024 * 1024,
      redactor: this.redactor,
    });
    this.api = new TableApi({
      tableApiUrl: options.tableApiUrl,
      transport,
      authenticator: createAuthenticator(options.credentials, { transport, redactor: this.redactor, now }),
      pageSize: options.pageSize ?? 1000,
      now,
    });
  }

  /**
   * Creates a ticket at most once per correlation id: looks it up first, creates it only when absent, then
   * looks again. If a concurrent or timed-out earlier attempt also created one, the oldest ticket wins and the
   * others are canceled with a note, so callers always converge on a single ticket.
   */
  async createTicket(request: CreateTicketRequest, options: CallOptions = {}): Promise<CreatedTicket> {
    const { table, correlationId } = request;
    checkCorrelationId(table, correlationId);
    const existing = await this.findByCorrelationId(table, correlationId, options);
    if (existing[0] !== undefined) return { ticket: existing[0], created: false };

    const values = {
      ...request.fields,
      correlation_id: correlationId,
      correlation_display: CORRELATION_DISPLAY,
    };
    const created =
      table === 'sc_request' && request.catalogItemSysId !== undefined
        ? await this.orderCatalogItem(request.catalogItemSysId, values, options)
        : toTicketSnapshot(table, await this.api.create(table, values, this.ticketRead(table, options)));

    const winner = (await this.findByCorrelationId(table, correlationId, options))[0] ?? created;
    if (winner.sysId === created.sysId) return { ticket: created, created: true };
    const note = `Duplicate of ${winner.number} (same correlation id ${correlationId}); canceled by the connector.`;
    await this.cancelTicket(table, created.sysId, note, options);
    return { ticket: winner, created: false };
  }

  /** Tickets carrying this correlation id, oldest first, checked to really carry it. */
  async findByCorrelationId(
    table: TicketTable,
    correlationId: string,
    options: CallOptions = {},
  ): Promise<TicketSnapshot[]> {
    const query = this.api
      .query(table)
      .where('correlation_id', '=', correlationId)
      .orderBy('sys_created_on')
      .orderBy('sys_id');
    const rows = await this.api.list(table, query, this.ticketRead(table, options));
    // `=` is case-insensitive in ServiceNow and a dropped term matches everything: keep exact matches only.
    return rows
      .map((row) => toTicketSnapshot(table, row))
      .filter((ticket) => ticket.correlationId === correlationId);
  }

  async getTicket(table: TicketTable, sysId: string, options: CallOptions = {}): Promise<TicketSnapshot> {
    const ticket = toTicketSnapshot(table, await this.api.get(table, sysId, this.ticketRead(table, options)));
    this.expectMatch(ticket.sysId === sysId, table, sysId);
    return ticket;
  }

  /** Batched status read: one request per 100 tickets. Tickets that no longer exist are absent from the map. */
  async getTickets(
    table: TicketTable,
    sysIds: readonly string[],
    options: CallOptions = {},
  ): Promise<Map<string, TicketSnapshot>> {
    const wanted = new Set(sysIds);
    const tickets = new Map<string, TicketSnapshot>();
    const ids = [...wanted];
    for (let start = 0; start < ids.length; start += STATUS_BATCH) {
      const batch = ids.slice(start, start + STATUS_BATCH);
      const query = this.api.query(table).where('sys_id', 'IN', batch);
      for (const row of await this.api.list(table, query, this.ticketRead(table, options))) {
        const ticket = toTicketSnapshot(table, row);
        this.expectMatch(wanted.has(ticket.sysId), table, ticket.sysId);
        tickets.set(ticket.sysId, ticket);
      }
    }
    return tickets;
  }

  /**
   * Cancels an open ticket with a work note. A ticket that is already closed or canceled is left as it is and
   * returned, so cancelling twice is harmless.
   */
  async cancelTicket(
    table: TicketTable,
    sysId: string,
    note: string,
    options: CallOptions = {},
  ): Promise<TicketSnapshot> {
    const current = await this.getTicket(table, sysId, options);
    if (!current.active) return current;
    const values: Record<string, string> =
      table === 'incident'
        ? { state: IncidentState.Canceled, work_notes: note }
        : {
            state: CatalogTaskState.ClosedIncomplete,
            request_state: RequestState.ClosedCancelled,
            work_notes: note,
          };
    return toTicketSnapshot(
      table,
      await this.api.update(table, sysId, values, this.ticketRead(table, options)),
    );
  }

  async addNote(
    table: TicketTable,
    sysId: string,
    text: string,
    kind: NoteKind = 'work_notes',
    options: CallOptions = {},
  ): Promise<TicketSnapshot> {
    return toTicketSnapshot(
      table,
      await this.api.update(table, sysId, { [kind]: text }, this.ticketRead(table, options)),
    );
  }

  /**
   * Rows of a table page by page in `sys_id` order (keyset paging), optionally filtered and resumed after a
   * sys_id. Memory holds one page at a time.
   */
  streamTable(
    table: TableName,
    options: ReadOptions & { readonly filter?: ParsedQuery; readonly afterSysId?: string } = {},
  ): AsyncGenerator<Page> {
    const filtered = this.api.filter(table, options.filter);
    return this.api.keysetPages(
      table,
      (last) => {
        const after = last?.sys_id ?? options.afterSysId;
        const bounded =
          after === undefined ? this.api.query(table) : this.api.query(table).where('sys_id', '>', after);
        return bounded.and(filtered.toParsed()).orderBy('sys_id');
      },
      this.withKeyFields(options, ['sys_id']),
    );
  }

  /**
   * Rows added or changed at or after `since` (`YYYY-MM-DD HH:MM:SS` UTC), in (`sys_updated_on`, `sys_id`)
   * order, so that a row updated while the read runs moves behind the cursor instead of being skipped.
   */
  streamChangedSince(
    table: TableName,
    since: string,
    options: ReadOptions & {
      readonly filter?: ParsedQuery;
      readonly after?: { updatedOn: string; sysId: string };
    } = {},
  ): AsyncGenerator<Page> {
    const filter = this.api.filter(table, options.filter).toParsed();
    return this.api.keysetPages(
      table,
      (last) => {
        const after =
          last?.sys_updated_on !== undefined && last.sys_id !== undefined
            ? { updatedOn: last.sys_updated_on, sysId: last.sys_id }
            : options.after;
        const bounded =
          after === undefined
            ? this.api.query(table).where('sys_updated_on', '>=', since)
            : this.api
                .query(table)
                .where('sys_updated_on', '>', after.updatedOn)
                .newQuery()
                .where('sys_updated_on', '=', after.updatedOn)
                .where('sys_id', '>', after.sysId);
        return bounded.and(filter).orderBy('sys_updated_on').orderBy('sys_id');
      },
      this.withKeyFields(options, ['sys_id', 'sys_updated_on']),
    );
  }

  /** Pages of an arbitrary listing, following the instance's `Link: rel="next"` headers. */
  listPages(
    table: TableName,
    options: ReadOptions & { readonly filter?: ParsedQuery } = {},
  ): AsyncGenerator<Page> {
    return this.api.pages(table, this.api.filter(table, options.filter), options);
  }

  /**
   * Checks that the credentials work and may read each table, one small request per table. Errors are
   * returned per table rather than thrown, so an operator sees everything that is wrong at once.
   */
  async checkAccess(
    tables: readonly TableName[],
    options: CallOptions = {},
  ): Promise<{ table: TableName; rowCount?: number; error?: ServiceNowError }[]> {
    const results = [];
    for (const table of tables) {
      try {
        results.push({ table, ...(await this.api.probe(table, options)) });
      } catch (error) {
        if (!(error instanceof ServiceNowError)) throw error;
        results.push({ table, error });
      }
    }
    return results;
  }

  /** A user by `user_name` (case-insensitive, as ServiceNow compares it), or undefined. */
  async findUser(userName: string, options: ReadOptions = {}): Promise<Row | undefined> {
    const rows = await this.api.list(
      'sys_user',
      this.api.query('sys_user').where('user_name', '=', userName),
      {
        ...options,
        fields: options.fields === undefined ? undefined : unique([...options.fields, 'user_name']),
      },
    );
    const matches = rows.filter((row) => row.user_name?.toLowerCase() === userName.toLowerCase());
    if (matches.length > 1) {
      throw new ServiceNowError({
        kind: 'mismatch',
        operation: 'find',
        table: 'sys_user',
        reason: 'several users have this user name',
      });
    }
    return matches[0];
  }

  /**
   * Sets a user's password and forces a change at next login. `sysparm_input_display_value=true` is what makes
   * ServiceNow store the value as a usable password instead of as opaque text.
   */
  async setPassword(userSysId: string, password: string, options: CallOptions = {}): Promise<void> {
    this.redactor.add(password);
    const row = await this.api.update(
      'sys_user',
      userSysId,
      { user_password: password, password_needs_reset: 'true' },
      {
        ...options,
        fields: ['sys_id', 'password_needs_reset'],
        inputDisplayValue: true,
        operation: 'set-password',
      },
    );
    this.expectMatch(row.sys_id === userSysId && row.password_needs_reset === 'true', 'sys_user', userSysId);
  }

  private async orderCatalogItem(
    itemSysId: string,
    values: Readonly<Record<string, string>>,
    options: CallOptions,
  ): Promise<TicketSnapshot> {
    if (!/^[0-9a-f]{32}$/.test(itemSysId)) {
      throw new ServiceNowError({
        kind: 'invalid-request',
        operation: 'order',
        table: 'sc_cat_item',
        reason: 'the catalog item id must be a sys_id',
      });
    }
    const answer = orderAnswer.safeParse(
      await this.api.post(
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
    // order_now has no idempotency key: the correlation id is tagged right after, which leaves a window of one
    // request in which a crash would make a retry order again. Prefer the Table API where the process allows.
    const row = await this.api.update(
      'sc_request',
      answer.data.result.sys_id,
      values,
      this.ticketRead('sc_request', options),
    );
    return toTicketSnapshot('sc_request', row);
  }

  private ticketRead(table: TicketTable, options: CallOptions): ReadOptions {
    return { signal: options.signal, fields: TICKET_FIELDS[table], displayValues: true };
  }

  private withKeyFields(options: ReadOptions, keys: readonly string[]): ReadOptions {
    return options.fields === undefined
      ? options
      : { ...options, fields: unique([...options.fields, ...keys]) };
  }

  private expectMatch(matches: boolean, table: string, record: string): void {
    if (!matches) {
      throw new ServiceNowError({
        kind: 'mismatch',
        operation: 'read',
        table,
        record,
        reason: 'ServiceNow returned a record that does not match the one asked for',
      });
    }
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

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
