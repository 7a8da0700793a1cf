import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isTableName, type TableName } from '../servicenow/tables';
import { ApiError, recordNotFound, refuseMethod, sendJson, unreadableRequest } from './apiErrors';
import { answerAfterCommit, callerOf } from './gates';
import type { SimulatedInstance } from './instance';
import { compileQuery, selectPage } from './queryEval';
import { recordRenderer, type DisplayValueMode, type RecordView } from './render';
import type { Row } from './store';
import type { Writer } from './tableWriter';

/** The platform's default page size. */
const DEFAULT_LIMIT = 10_000;

type TableRequest = FastifyRequest<{ Params: { table: string } }>;
type RecordRequest = FastifyRequest<{ Params: { table: string; sysId: string } }>;

/** The Table API: `/api/now/table/{table}` and `/api/now/table/{table}/{sys_id}`. */
export function registerTableRoutes(app: FastifyInstance, instance: SimulatedInstance): void {
  const { store, writer } = instance;

  app.get('/api/now/table/:table', (request: TableRequest, reply) => {
    const table = tableOf(request);
    const offset = wholeNumber(param(request, 'sysparm_offset')) ?? 0;
    const limit = wholeNumber(param(request, 'sysparm_limit')) || DEFAULT_LIMIT;
    const withCount = !flag(request, 'sysparm_no_count');
    const withLinks = !flag(request, 'sysparm_suppress_pagination_header');
    const query = compileQuery(store, table, param(request, 'sysparm_query') ?? '');
    const page = selectPage(store, table, query, { offset, limit, countAll: withCount || withLinks });
    if (page.total !== undefined) {
      if (withCount) reply.header('x-total-count', String(page.total));
      const links = withLinks ? pageLinks(request, page.total, offset, limit) : undefined;
      if (links !== undefined) reply.header('link', links);
    }
    const render = recordRenderer(store, table, viewOf(request));
    return sendJson(reply, 200, { result: page.rows.map(render) });
  });

  app.get('/api/now/table/:table/:sysId', (request: RecordRequest, reply) => {
    const table = tableOf(request);
    const row = store.table(table).get(request.params.sysId);
    if (row === undefined) throw recordNotFound();
    return answerRecord(request, reply, 200, table, row);
  });

  app.post('/api/now/table/:table', (request: TableRequest, reply) => {
    const table = tableOf(request);
    const row = writer.insert(table, bodyOf(request), writerOf(request));
    return answerAfterCommit(instance, request, reply, () => {
      const sysId = store.table(table).read(row, 'sys_id');
      reply.header('location', `${baseUrl(request)}/api/now/table/${table}/${sysId}`);
      return answerRecord(request, reply, 201, table, row);
    });
  });

  const update = (request: RecordRequest, reply: FastifyReply) => {
    const table = tableOf(request);
    const row = writer.update(table, request.params.sysId, bodyOf(request), writerOf(request));
    return answerAfterCommit(instance, request, reply, () => answerRecord(request, reply, 200, table, row));
  };
  app.put('/api/now/table/:table/:sysId', update);
  app.patch('/api/now/table/:table/:sysId', update);

  app.delete('/api/now/table/:table/:sysId', (request: RecordRequest, reply) => {
    writer.delete(tableOf(request), request.params.sysId, writerOf(request));
    return answerAfterCommit(instance, request, reply, () => reply.code(204).send());
  });

  app.route({ method: ['PUT', 'PATCH', 'DELETE'], url: '/api/now/table/:table', handler: refuseMethod });
  app.post('/api/now/table/:table/:sysId', refuseMethod);

  function answerRecord(
    request: FastifyRequest,
    reply: FastifyReply,
    statusCode: number,
    table: TableName,
    row: Row,
  ): FastifyReply {
    return sendJson(reply, statusCode, { result: recordRenderer(store, table, viewOf(request))(row) });
  }
}

function tableOf(request: TableRequest): TableName {
  const { table } = request.params;
  if (!isTableName(table)) throw new ApiError(400, `Invalid table ${table}`);
  return table;
}

function writerOf(request: FastifyRequest): Writer {
  return {
    user: callerOf(request),
    inputDisplayValue: flag(request, 'sysparm_input_display_value'),
    checkAcl: true,
  };
}

function bodyOf(request: FastifyRequest): Record<string, unknown> {
  const { body } = request;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw unreadableRequest('The request body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

function param(request: FastifyRequest, name: string): string | undefined {
  const value = (request.query as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(value) ? value[0] : value;
}

function flag(request: FastifyRequest, name: string): boolean {
  return param(request, name)?.toLowerCase() === 'true';
}

/**
 * A non-negative whole number, or undefined for anything else (the platform ignores bad paging values). Beyond
 * the safe integers counts lose precision and print as `1e+23`, which would break the `Link` URLs.
 */
function wholeNumber(text: string | undefined): number | undefined {
  const value = text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
  return value !== undefined && Number.isSafeInteger(value) ? value : undefined;
}

function viewOf(request: FastifyRequest): RecordView {
  const mode = param(request, 'sysparm_display_value')?.toLowerCase();
  const displayValue: DisplayValueMode = mode === 'true' || mode === 'all' ? mode : 'false';
  const fields = param(request, 'sysparm_fields')
    ?.split(',')
    .map((field) => field.trim())
    .filter((field) => field !== '');
  return {
    displayValue,
    excludeReferenceLink: flag(request, 'sysparm_exclude_reference_link'),
    fields,
    baseUrl: baseUrl(request),
  };
}

function baseUrl(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

/**
 * The `Link` header: `<url>;rel="first",<url>;rel="prev",<url>;rel="next",<url>;rel="last"`, each URL the
 * request's own with another offset. Absent when everything fits in one page; prev is absent on the first page
 * and next on the last.
 */
function pageLinks(
  request: FastifyRequest,
  total: number,
  offset: number,
  limit: number,
): string | undefined {
  if (offset === 0 && total <= limit) return undefined;
  const queryStart = request.url.indexOf('?');
  const path = queryStart < 0 ? request.url : request.url.slice(0, queryStart);
  const search = queryStart < 0 ? '' : request.url.slice(queryStart + 1);
  const link = (pageOffset: number, rel: string) => {
    const params = new URLSearchParams(search);
    params.set('sysparm_limit', String(limit));
    params.set('sysparm_offset', String(pageOffset));
    return `<${baseUrl(request)}${path}?${params.toString()}>;rel="${rel}"`;
  };
  const last = total === 0 ? 0 : Math.floor((total - 1) / limit) * limit;
  return [
    link(0, 'first'),
    ...(offset > 0 ? [link(Math.max(0, offset - limit), 'prev')] : []),
    ...(offset + limit < total ? [link(offset + limit, 'next')] : []),
    link(last, 'last'),
  ].join(',');
}
