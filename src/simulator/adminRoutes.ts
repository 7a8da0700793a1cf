import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { TABLE_NAMES, TICKET_TABLES } from '../servicenow/tables';
import { ApiError } from './apiErrors';
import { TASK_TABLES } from './businessRules';
import type { SimulatedInstance } from './instance';
import type { AdminAccount } from './seed';
import { CLOSE_OUTCOMES, TICKET_ACTIONS } from './ticketActions';

const rate = z.number().min(0).max(1);
const count = (max: number) => z.number().int().min(0).max(max);

const faultsBody = z.strictObject({
  errorRate: rate.optional(),
  latencyMs: count(60_000).optional(),
  dropRate: rate.optional(),
  burst429: count(1_000_000).optional(),
  retryAfterSeconds: count(3600).optional(),
  failAfterCommit: rate.optional(),
});
const seedBody = z.strictObject({
  users: count(1_000_000).default(0),
  groups: count(100_000).default(0),
  membershipsPerUser: count(100).default(1),
  roles: count(1000).default(0),
});
const actionBody = z.strictObject({
  outcome: z.enum(CLOSE_OUTCOMES).optional(),
  code: z.string().optional(),
  notes: z.string().optional(),
  by: z.string().min(1).optional(),
});
const ticketsQuery = z.object({
  table: z.enum(TASK_TABLES).optional(),
  state: z.enum(['open', 'closed', 'all']).default('open'),
});
const requestsQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) });
const hibernateBody = z.strictObject({ hibernating: z.boolean() });

/**
 * The operator's API under `/sim/admin`: JSON, Basic authentication with the admin account given at startup
 * (not the sys_user record, so that a test cannot lock the operator out), never subject to faults,
 * hibernation or rate limits. Errors are `{"error": "..."}`.
 */
export function registerAdminRoutes(
  app: FastifyInstance,
  instance: SimulatedInstance,
  admin: AdminAccount,
): void {
  app.addHook('onRequest', async (request, reply) => {
    if (!isAdmin(request.headers.authorization, admin)) {
      return reply
        .code(401)
        .header('www-authenticate', 'Basic realm="ServiceNow simulator admin"')
        .send({ error: "The admin API needs the admin user's Basic credentials" });
    }
    return undefined;
  });
  app.setErrorHandler((error: Error, _request, reply) => adminError(reply, error));
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: 'No such admin route' }));

  app.get('/tickets', (request) => {
    const { table, state } = ticketsQuery.parse(request.query);
    return { result: instance.tickets(table === undefined ? TICKET_TABLES : [table], state) };
  });

  app.get('/tickets/:number', (request: FastifyRequest<{ Params: { number: string } }>) => {
    const ticket = instance.ticket(request.params.number);
    if (ticket === undefined) throw new ApiError(404, `No ticket ${request.params.number}`);
    return { result: ticket };
  });

  app.post(
    '/tickets/:number/:action',
    (request: FastifyRequest<{ Params: { number: string; action: string } }>) => {
      const action = z.enum(TICKET_ACTIONS).parse(request.params.action);
      const options = actionBody.parse(request.body ?? {});
      return { result: instance.actOnTicket(request.params.number, { action, ...options }) };
    },
  );

  app.get('/users/:userName', (request: FastifyRequest<{ Params: { userName: string } }>) => {
    const user = instance.user(request.params.userName);
    if (user === undefined) throw new ApiError(404, `No user ${request.params.userName}`);
    return { result: user };
  });

  app.post('/seed', (request) => {
    const started = performance.now();
    const seeded = instance.seedDirectory(seedBody.parse(request.body ?? {}));
    return { result: { ...seeded, took_ms: Math.round(performance.now() - started) } };
  });

  app.get('/stats', () => ({
    result: {
      requests: instance.stats.counts(),
      tables: Object.fromEntries(TABLE_NAMES.map((table) => [table, instance.store.table(table).size])),
      notifications: instance.notificationStats() ?? null,
      faults: instance.faults.faults,
      hibernating: instance.hibernating,
    },
  }));

  app.get('/requests', (request) => {
    const { limit } = requestsQuery.parse(request.query);
    return { result: instance.stats.latest(limit) };
  });

  app.post('/reset', () => {
    instance.reset();
    return { result: 'reset' };
  });

  app.get('/faults', () => ({ result: instance.faults.faults }));
  app.put('/faults', (request) => ({ result: instance.faults.update(faultsBody.parse(request.body ?? {})) }));

  app.get('/hibernate', () => ({ result: { hibernating: instance.hibernating } }));
  app.put('/hibernate', (request) => {
    instance.hibernating = hibernateBody.parse(request.body ?? {}).hibernating;
    return { result: { hibernating: instance.hibernating } };
  });
}

function isAdmin(authorization: string | undefined, admin: AdminAccount): boolean {
  const [scheme, credentials = ''] = (authorization ?? '').split(' ', 2);
  if (scheme?.toLowerCase() !== 'basic') return false;
  const digest = (text: string) => createHash('sha256').update(text).digest();
  const given = Buffer.from(credentials, 'base64').toString('utf8');
  return timingSafeEqual(digest(given), digest(`${admin.login}:${admin.password}`));
}

function adminError(
  reply: FastifyReply,
  error: Error & Partial<Pick<FastifyError, 'statusCode'>>,
): FastifyReply {
  if (error instanceof z.ZodError) return reply.code(400).send({ error: z.prettifyError(error) });
  if (error instanceof ApiError) {
    const detail = error.detail === null ? '' : `: ${error.detail.replace(/\s+/g, ' ').trim()}`;
    return reply.code(error.statusCode).send({ error: `${error.message}${detail}` });
  }
  const statusCode = error.statusCode !== undefined && error.statusCode < 500 ? error.statusCode : 500;
  return reply.code(statusCode).send({ error: statusCode === 500 ? 'Internal error' : error.message });
}
