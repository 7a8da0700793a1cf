import { createAuthenticator, type Authenticator, type ServiceNowCredentials } from './auth';
import { CallBudget, type CallBudgetShare, type CallPriority } from './budget';
import type { ParsedQuery } from './encodedQuery';
import { SecretRedactor } from '../http/redaction';
import { ServiceNowError } from './errors';
import { TableApi, type CallOptions, type Page, type ReadOptions, type Row } from './tableApi';
import type { TableName, TicketTable } from './tables';
import {
  createTicketOnce,
  findByCorrelationId,
  type CreatedTicket,
  type CreateTicketRequest,
} from './ticketCreation';
import { cancellationValues, ticketRead, toTicketSnapshot, type TicketSnapshot } from './tickets';
import { HttpTransport, type CallPolicy } from './transport';
import { findUserByName, setUserPassword } from './users';
import type { PasswordSetUser, PasswordUser } from '../contract/passwordReset';
import type { ConnectorMetrics } from '../platform/metrics';

export interface ServiceNowClientOptions {
  /** The Table API base URL (`https://instance.service-now.com/api/now/table`). */
  readonly tableApiUrl: string;
  readonly credentials: ServiceNowCredentials;
  /** Rows per page (`ResponseSizeLimit`). */
  readonly pageSize?: number;
  readonly timeoutMs?: number;
  readonly maxResponseBytes?: number;
  readonly now?: () => Date;
  /** The connection's identifier, in metrics; the instance's host by default. */
  readonly connection?: string;
  /** This worker's share of the connection's call budget; calls are limited only by ServiceNow's 429s without. */
  readonly budget?: CallBudgetShare;
  readonly metrics?: ConnectorMetrics;
}

export type NoteKind = 'work_notes' | 'comments';

/** Keeps `sys_idIN...` URLs well under common 8 KB URL limits. */
const STATUS_BATCH = 100;

export type { CreateTicketRequest, CreatedTicket } from './ticketCreation';

/**
 * Everything the connector does in ServiceNow. Nothing else builds ServiceNow URLs or queries. Errors are
 * `ServiceNowError`s that say whether a retry may help; retrying is left to the caller (Temporal activities).
 */
export class ServiceNowClient {
  private readonly api: TableApi;
  private readonly redactor: SecretRedactor;
  private readonly shared: SharedParts;
  private readonly views = new Map<string, ServiceNowClient>();

  constructor(options: ServiceNowClientOptions);
  /** A view of a client: same connection, token and budget, another call policy (see `withPriority`). */
  constructor(options: SharedParts, policy: CallPolicy);
  constructor(options: ServiceNowClientOptions | SharedParts, policy?: CallPolicy) {
    this.shared = 'authenticator' in options ? options : sharedParts(options);
    const { transport, authenticator, redactor, tableApiUrl, pageSize } = this.shared;
    this.redactor = redactor;
    this.api = new TableApi({
      tableApiUrl,
      transport: policy === undefined ? transport : transport.withPolicy(policy),
      authenticator,
      pageSize,
    });
  }

  /**
   * This client with its calls queued as `priority` in the connection's budget (the client itself calls as
   * `normal`). With `waitOutRateLimits: false` a 429 comes back at once instead of being waited out and sent
   * again, for callers that wait it out themselves (the export, with its progress in heartbeats).
   */
  withPriority(priority: CallPriority, options: { waitOutRateLimits?: boolean } = {}): ServiceNowClient {
    const policy = { priority, waitOutRateLimits: options.waitOutRateLimits ?? true };
    const key = `${policy.priority}:${policy.waitOutRateLimits}`;
    let view = this.views.get(key);
    if (view === undefined) {
      view = new ServiceNowClient(this.shared, policy);
      this.views.set(key, view);
    }
    return view;
  }

  /**
   * Creates a ticket at most once per correlation id, whatever retries, crashes and timeouts happen: see
   * `createTicketOnce`.
   */
  async createTicket(request: CreateTicketRequest, options: CallOptions = {}): Promise<CreatedTicket> {
    return createTicketOnce(this.api, request, options);
  }

  /** Tickets carrying this correlation id, oldest first, checked to really carry it. */
  async findByCorrelationId(
    table: TicketTable,
    correlationId: string,
    options: CallOptions = {},
  ): Promise<TicketSnapshot[]> {
    return findByCorrelationId(this.api, table, correlationId, options);
  }

  async getTicket(table: TicketTable, sysId: string, options: CallOptions = {}): Promise<TicketSnapshot> {
    const ticket = toTicketSnapshot(table, await this.api.get(table, sysId, ticketRead(table, options)));
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
      const query = this.api.query(table, 'read').where('sys_id', 'IN', batch);
      for (const row of await this.api.list(table, query, batch.length, ticketRead(table, options))) {
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
    const values = { ...cancellationValues(table), work_notes: note };
    return toTicketSnapshot(table, await this.api.update(table, sysId, values, ticketRead(table, options)));
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
      await this.api.update(table, sysId, { [kind]: text }, ticketRead(table, options)),
    );
  }

  /**
   * Rows of a table page by page in `sys_id` order (keyset paging), optionally filtered and resumed after a
   * sys_id. Memory holds one page at a time. Rows inserted behind the cursor while it runs are not seen.
   */
  streamTable(
    table: TableName,
    options: ReadOptions & { readonly filter?: ParsedQuery; readonly afterSysId?: string } = {},
  ): AsyncGenerator<Page> {
    const filter = this.api.filter(table, options.filter, { operation: 'list', ignoreOrder: true });
    return this.api.keysetPages(
      table,
      (last) => {
        const after = last === undefined ? options.afterSysId : keyOf(last, 'sys_id', table);
        const query = this.api.query(table, 'list');
        const bounded = after === undefined ? query : query.where('sys_id', '>', after);
        return bounded.and(filter).orderBy('sys_id');
      },
      this.withKeyFields(options, ['sys_id']),
    );
  }

  /**
   * Rows added or changed at or after `since` (`YYYY-MM-DD HH:MM:SS` UTC), in (`sys_updated_on`, `sys_id`)
   * order, so that a row updated while the read runs moves behind the cursor instead of being skipped. A
   * transaction that commits after the cursor passed its timestamp is not seen: incremental readers start a
   * little before their watermark and de-duplicate.
   */
  streamChangedSince(
    table: TableName,
    since: string,
    options: ReadOptions & {
      readonly filter?: ParsedQuery;
      readonly after?: { updatedOn: string; sysId: string };
    } = {},
  ): AsyncGenerator<Page> {
    const filter = this.api.filter(table, options.filter, { operation: 'list', ignoreOrder: true });
    return this.api.keysetPages(
      table,
      (last) => {
        const after =
          last === undefined
            ? options.after
            : { updatedOn: keyOf(last, 'sys_updated_on', table), sysId: keyOf(last, 'sys_id', table) };
        const query = this.api.query(table, 'list');
        const bounded =
          after === undefined
            ? query.where('sys_updated_on', '>=', since)
            : query
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
    const filter = this.api.filter(table, options.filter, { operation: 'list', ignoreOrder: false });
    return this.api.pages(table, this.api.query(table, 'list').and(filter), options);
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
    return findUserByName(this.api, userName, options);
  }

  /**
   * Sets a user's password and forces a change at next login; the user is found by sys_id or user_name. Throws
   * PasswordResetError (src/servicenow/users.ts) for an unknown user, a password the instance's policy rejects,
   * or an account that may not set passwords; ServiceNowError otherwise. Nothing it throws holds the password.
   */
  async setUserPassword(
    user: PasswordUser,
    password: string,
    options: CallOptions = {},
  ): Promise<PasswordSetUser> {
    return setUserPassword(this.api, this.redactor, user, password, options);
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

/** What a client and its views share: one budget, one exchange, one token. */
interface SharedParts {
  readonly transport: HttpTransport;
  readonly authenticator: Authenticator;
  readonly redactor: SecretRedactor;
  readonly tableApiUrl: string;
  readonly pageSize: number;
}

function sharedParts(options: ServiceNowClientOptions): SharedParts {
  const now = options.now ?? (() => new Date());
  const redactor = new SecretRedactor();
  const budget = new CallBudget({
    connection: options.connection ?? hostOf(options.tableApiUrl),
    ...(options.budget === undefined ? {} : { share: options.budget }),
    ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
  });
  const transport = new HttpTransport({
    timeoutMs: options.timeoutMs ?? 30_000,
    maxResponseBytes: options.maxResponseBytes ?? 64 * 1024 * 1024,
    redactor,
    now,
    budget,
    ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
  });
  return {
    transport,
    // A token is what every call waits for: its requests go first.
    authenticator: createAuthenticator(options.credentials, {
      transport: transport.withPolicy({ priority: 'urgent', waitOutRateLimits: true }),
      redactor,
      now,
    }),
    redactor,
    tableApiUrl: options.tableApiUrl,
    pageSize: options.pageSize ?? 1000,
  };
}

/** A connection without an identifier is named by its host in metrics; an unusable URL fails later, in TableApi. */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'unknown';
  }
}

/** The paging key of a row; a row without it would leave the cursor where it is. */
function keyOf(row: Row, field: string, table: TableName): string {
  const value = row[field];
  if (value === undefined || value === '') {
    throw new ServiceNowError({
      kind: 'invalid-response',
      operation: 'list',
      table,
      reason: `a row came back without '${field}', which paging needs (is it hidden by an ACL?)`,
    });
  }
  return value;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
