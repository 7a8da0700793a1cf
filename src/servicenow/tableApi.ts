import { z } from 'zod';
import type { Authenticator } from './auth';
import { EncodedQuery, type ParsedQuery } from './encodedQuery';
import { ServiceNowError, type ServiceNowOperation } from './errors';
import { parseLinkHeader, parseTotalCount } from './paging';
import { fieldsOf, isSysId, type TableName } from './tables';
import { checkTransportUrl, type HttpAnswer, type HttpCall, type HttpTransport } from './transport';

/**
 * A record as the Table API returns it with `sysparm_exclude_reference_link=true`: every value a string
 * (references as sys_ids). Read with `displayValues`, each field's display value is added as `dv_<field>`, the
 * prefix ServiceNow's JSONv2 API uses.
 */
export type Row = Readonly<Record<string, string>>;

export interface Page {
  readonly rows: readonly Row[];
  /**
   * `X-Total-Count`: rows matching this page's query. With keyset paging only the first page has it (the rows
   * from there on), to spare the instance a count per page.
   */
  readonly totalCount?: number;
}

export interface CallOptions {
  readonly signal?: AbortSignal;
}

export interface ReadOptions extends CallOptions {
  readonly fields?: readonly string[];
  /** Rows per call of keyset paging, in place of the connection's page size (the sweep reads small pages). */
  readonly pageSize?: number;
  /** Also read display values (choice labels, names of referenced records). */
  readonly displayValues?: boolean;
}

/** ServiceNow's custom fields are named `u_...`; they are not in our dictionary but are legitimate to read. */
const CUSTOM_FIELD = /^u_[a-z0-9_]+$/;

const text = z
  .string()
  .nullable()
  .transform((value) => value ?? '');
const rowSchema = z
  .record(z.string(), z.union([text, z.object({ value: text, display_value: text })]))
  .transform((record): Row => {
    const row: Record<string, string> = {};
    for (const [field, cell] of Object.entries(record)) {
      if (typeof cell === 'string') {
        row[field] = cell;
      } else {
        row[field] = cell.value;
        row[`dv_${field}`] = cell.display_value;
      }
    }
    return row;
  });
const listEnvelope = z.object({ result: z.array(rowSchema) });
const recordEnvelope = z.object({ result: rowSchema });

export interface TableApiOptions {
  readonly tableApiUrl: string;
  readonly transport: HttpTransport;
  readonly authenticator: Authenticator;
  readonly pageSize: number;
}

/**
 * The Table API with authentication, envelopes and paging. Every field name is checked against the table's
 * dictionary before it is sent: ServiceNow silently ignores unknown names, which would turn a typo into a
 * query that matches every row or a write that does nothing.
 */
export class TableApi {
  private readonly base: URL;

  constructor(private readonly options: TableApiOptions) {
    this.base = checkTransportUrl(options.tableApiUrl.replace(/\/+$/, ''), 'read');
  }

  get origin(): string {
    return this.base.origin;
  }

  /** The instance root (`https://x.service-now.com`), for APIs other than the Table API. */
  get instanceUrl(): string {
    return this.base.href.replace(/\/api\/now(\/v\d+)?\/table$/, '');
  }

  /** A query builder over the table's fields whose problems are `invalid-request` errors of `operation`. */
  query(table: TableName, operation: ServiceNowOperation): EncodedQuery {
    return EncodedQuery.over(fieldsOf(table), (field, problem) => {
      const where = field === undefined ? 'the query' : `field '${field}'`;
      return new ServiceNowError({
        kind: 'invalid-request',
        operation,
        table,
        reason: `${where} ${problem}`,
      });
    });
  }

  checkFields(table: TableName, fields: Iterable<string>, operation: ServiceNowOperation): string[] {
    const known = new Set(fieldsOf(table));
    const names = [...fields];
    const unknown = names.filter((name) => !known.has(name) && !CUSTOM_FIELD.test(name));
    if (unknown.length > 0) {
      throw new ServiceNowError({
        kind: 'invalid-request',
        operation,
        table,
        reason: `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((f) => `'${f}'`).join(', ')}`,
      });
    }
    return names;
  }

  /**
   * Checks a configured filter (parsed from `table#encodedQuery`) against the table's fields. Keyset paging
   * drops the filter's ordering: rows must come in key order, or the cursor would skip some.
   */
  filter(
    table: TableName,
    filter: ParsedQuery | undefined,
    options: { operation: ServiceNowOperation; ignoreOrder: boolean },
  ): ParsedQuery {
    const query = this.query(table, options.operation);
    return (filter === undefined ? query : query.and(filter, options)).toParsed();
  }

  async get(table: TableName, sysId: string, options: ReadOptions = {}): Promise<Row> {
    const answer = await this.call(
      {
        method: 'GET',
        url: this.recordUrl(table, sysId, 'read'),
        params: this.readParams(table, options, 'read'),
        operation: 'read',
        table,
        record: sysId,
        signal: options.signal,
      },
      [200],
    );
    return this.record(answer, { operation: 'read', table, record: sysId });
  }

  async create(
    table: TableName,
    values: Readonly<Record<string, string>>,
    options: ReadOptions = {},
  ): Promise<Row> {
    this.checkFields(table, Object.keys(values), 'create');
    const answer = await this.call(
      {
        method: 'POST',
        url: this.tableUrl(table),
        params: this.readParams(table, options, 'create'),
        body: values,
        operation: 'create',
        table,
        signal: options.signal,
      },
      [201],
    );
    return this.record(answer, { operation: 'create', table });
  }

  async update(
    table: TableName,
    sysId: string,
    values: Readonly<Record<string, string>>,
    options: ReadOptions & {
      readonly inputDisplayValue?: boolean;
      readonly operation?: ServiceNowOperation;
    } = {},
  ): Promise<Row> {
    const operation = options.operation ?? 'update';
    this.checkFields(table, Object.keys(values), operation);
    const params = this.readParams(table, options, operation);
    const answer = await this.call(
      {
        method: 'PATCH',
        url: this.recordUrl(table, sysId, operation),
        params:
          options.inputDisplayValue === true ? { ...params, sysparm_input_display_value: 'true' } : params,
        body: values,
        operation,
        table,
        record: sysId,
        signal: options.signal,
      },
      [200],
    );
    return this.record(answer, { operation, table, record: sysId });
  }

  /** Posts to an API outside the Table API (Service Catalog), with the same auth and error handling. */
  async post(
    path: string,
    body: unknown,
    call: Pick<HttpCall, 'operation' | 'table' | 'signal'>,
  ): Promise<unknown> {
    const answer = await this.call(
      { ...call, method: 'POST', url: `${this.instanceUrl}${path}`, body },
      [200, 201],
    );
    return answer.json;
  }

  /**
   * Pages through a query by following `Link: rel="next"`. Robust to ACL filtering (a short page is not the
   * end), but offsets can skip or repeat rows under concurrent writes: use keyset paging for syncs.
   */
  async *pages(table: TableName, query: EncodedQuery, options: ReadOptions = {}): AsyncGenerator<Page> {
    let url: string | undefined = this.tableUrl(table);
    let params: Record<string, string> | undefined = {
      ...this.readParams(table, options, 'list'),
      sysparm_query: query.toString(),
      sysparm_limit: String(this.options.pageSize),
    };
    while (url !== undefined) {
      const answer = await this.call(
        { method: 'GET', url, params, operation: 'list', table, signal: options.signal },
        [200],
      );
      yield this.page(answer, table);
      url = this.nextUrl(answer, table);
      params = undefined; // the next link carries every parameter
    }
  }

  /**
   * Keyset paging: each page asks for rows after the last key seen, so rows written meanwhile are neither skipped
   * nor repeated. `nextQuery` builds the query for the page after `last` (undefined: the first page). Ends on an
   * empty page: with ACLs applied after `sysparm_limit`, a short page does not prove the end.
   */
  async *keysetPages(
    table: TableName,
    nextQuery: (last: Row | undefined) => EncodedQuery,
    options: ReadOptions = {},
  ): AsyncGenerator<Page> {
    let last: Row | undefined;
    let previousQuery: string | undefined;
    for (;;) {
      const query = nextQuery(last).toString();
      // A cursor that does not move would read the same page forever (a key field hidden by an ACL, say).
      if (query === previousQuery) {
        throw new ServiceNowError({
          kind: 'invalid-response',
          operation: 'list',
          table,
          reason: 'keyset paging did not advance: the last row of a page has no usable key',
        });
      }
      previousQuery = query;
      const answer = await this.call(
        {
          method: 'GET',
          url: this.tableUrl(table),
          params: {
            ...this.readParams(table, options, 'list'),
            sysparm_query: query,
            sysparm_limit: String(options.pageSize ?? this.options.pageSize),
            sysparm_suppress_pagination_header: 'true',
            // Counting is a second query on the instance; only the first page's count is worth it (progress).
            ...(last === undefined ? {} : { sysparm_no_count: 'true' }),
          },
          operation: 'list',
          table,
          signal: options.signal,
        },
        [200],
      );
      const page = this.page(answer, table);
      if (page.rows.length === 0) return;
      yield page;
      last = page.rows.at(-1);
    }
  }

  /** Reads at most one row, with the row count: proves that the credentials may read the table. */
  async probe(table: TableName, options: CallOptions = {}): Promise<{ readonly rowCount?: number }> {
    const answer = await this.call(
      {
        method: 'GET',
        url: this.tableUrl(table),
        params: { sysparm_fields: 'sys_id', sysparm_limit: '1', sysparm_suppress_pagination_header: 'true' },
        operation: 'list',
        table,
        signal: options.signal,
      },
      [200],
    );
    return { rowCount: this.page(answer, table).totalCount };
  }

  /**
   * Reads every row of a lookup whose result is known to be small. More than `maxRows` means the query did not
   * select what it should (a dropped term matches the whole table): that is an error, not a memory problem.
   */
  async list(
    table: TableName,
    query: EncodedQuery,
    maxRows: number,
    options: ReadOptions = {},
  ): Promise<Row[]> {
    const rows: Row[] = [];
    for await (const page of this.pages(table, query, options)) {
      rows.push(...page.rows);
      if (rows.length > maxRows) {
        throw new ServiceNowError({
          kind: 'mismatch',
          operation: 'find',
          table,
          reason: `the lookup matched more than ${maxRows} rows; the query was not applied as written`,
        });
      }
    }
    return rows;
  }

  private async call(
    call: Omit<HttpCall, 'authorization'>,
    expected: readonly number[],
  ): Promise<HttpAnswer> {
    const { authenticator, transport } = this.options;
    let authorization = await authenticator.authorization(call.signal);
    let answer = await transport.send({ ...call, authorization });
    // A 401 means the request was not processed, so even a POST is safe to send again with a fresh token.
    if (answer.status === 401 && authenticator.rejected(authorization)) {
      authorization = await authenticator.authorization(call.signal);
      answer = await transport.send({ ...call, authorization });
    }
    if (!expected.includes(answer.status)) {
      throw transport.httpError(answer, call);
    }
    return answer;
  }

  private readParams(table: TableName, options: ReadOptions, operation: ServiceNowOperation) {
    const params: Record<string, string> = {
      sysparm_display_value: options.displayValues === true ? 'all' : 'false',
      sysparm_exclude_reference_link: 'true',
    };
    if (options.fields !== undefined) {
      params.sysparm_fields = this.checkFields(table, options.fields, operation).join(',');
    }
    return params;
  }

  private tableUrl(table: TableName): string {
    return `${this.base.href}/${table}`;
  }

  private recordUrl(table: TableName, sysId: string, operation: ServiceNowOperation): string {
    if (!isSysId(sysId)) {
      throw new ServiceNowError({
        kind: 'invalid-request',
        operation,
        table,
        reason: 'sys_id must be 32 hex characters',
      });
    }
    return `${this.tableUrl(table)}/${sysId}`;
  }

  /** Follows `next` only to the instance we were configured with: the link must not carry our credentials away. */
  private nextUrl(answer: HttpAnswer, table: TableName): string | undefined {
    const next = parseLinkHeader(answer.headers.link).get('next');
    if (next === undefined) return undefined;
    const url = new URL(next, this.base);
    if (url.origin !== this.base.origin) {
      throw new ServiceNowError({
        kind: 'invalid-response',
        operation: 'list',
        table,
        reason: `the next-page link points to another host (${url.host})`,
      });
    }
    return url.href;
  }

  private page(answer: HttpAnswer, table: TableName): Page {
    const parsed = listEnvelope.safeParse(answer.json);
    if (!parsed.success) throw invalidEnvelope('list', table, undefined, answer.status);
    return { rows: parsed.data.result, totalCount: parseTotalCount(answer.headers['x-total-count']) };
  }

  private record(
    answer: HttpAnswer,
    call: { operation: ServiceNowOperation; table: TableName; record?: string },
  ): Row {
    const parsed = recordEnvelope.safeParse(answer.json);
    if (!parsed.success) throw invalidEnvelope(call.operation, call.table, call.record, answer.status);
    return parsed.data.result;
  }
}

function invalidEnvelope(
  operation: ServiceNowOperation,
  table: string,
  record: string | undefined,
  status: number,
): ServiceNowError {
  return new ServiceNowError({
    kind: 'invalid-response',
    operation,
    table,
    record,
    status,
    reason: 'the answer is not a {"result": ...} envelope of field values',
  });
}
