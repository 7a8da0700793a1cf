import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, notAuthenticated, sendApiError } from './apiErrors';
import type { AuthenticatedUser } from './auth';
import type { SimulatedInstance } from './instance';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated user of a Table or Catalog API request; null before authentication. */
    caller: AuthenticatedUser | null;
  }
}

const HIBERNATION_PAGE = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Instance Hibernating page</title></head>
<body><h1>Your instance is hibernating</h1>
<p>Developer instances hibernate when they are not used. Sign in to the developer portal to wake it up.</p>
</body></html>
`;

/** A hibernating developer instance answers 200 with this page to everything: clients must check the type. */
export function sendHibernationPage(reply: FastifyReply): FastifyReply {
  return reply.code(200).header('content-type', 'text/html;charset=UTF-8').send(HIBERNATION_PAGE);
}

/**
 * What stands between a client and any instance URL, in the order the platform's layers apply: a hibernating
 * instance answers its HTML page to everything; a full request queue refuses with a bare 429; then the
 * injected faults (added latency, dropped connections, 429 bursts, server errors).
 */
export function instanceGate(instance: SimulatedInstance) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    if (instance.hibernating) return sendHibernationPage(reply);
    const gate = instance.concurrency;
    if (gate !== undefined) {
      if (!gate.tryEnter()) {
        return sendApiError(
          reply,
          new ApiError(429, 'Too Many Requests', 'The inbound request queue is full'),
        );
      }
      reply.raw.once('close', () => gate.leave());
    }
    const { latencyMs } = instance.faults.faults;
    if (latencyMs > 0) {
      try {
        await sleep(latencyMs, undefined, { signal: request.signal });
      } catch {
        // The client went away (or the simulator is closing): nobody is left to answer.
        return dropConnection(instance, request, reply);
      }
    }
    const fault = instance.faults.onRequest();
    switch (fault?.kind) {
      case undefined:
        return undefined;
      case 'drop':
        return dropConnection(instance, request, reply);
      case 'throttle':
        return sendApiError(
          reply,
          new ApiError(429, 'Too Many Requests', 'Simulated burst of throttled requests', {
            'retry-after': String(fault.retryAfterSeconds),
          }),
        );
      case 'error':
        return sendApiError(
          reply,
          new ApiError(
            fault.statusCode,
            fault.statusCode === 500 ? 'Internal Server Error' : 'Service Unavailable',
            'Simulated fault',
          ),
        );
    }
  };
}

/** Authenticates API requests and applies the hourly rate-limit rule to the authenticated user. */
export function apiAuthentication(instance: SimulatedInstance) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const user = instance.auth.authenticate(request.headers.authorization);
    if (user === undefined) throw notAuthenticated();
    request.caller = user;
    const verdict = instance.rateLimiter?.count(user.sysId);
    if (verdict === undefined) return;
    reply.headers(verdict.headers);
    if (!verdict.allowed) {
      throw new ApiError(
        429,
        'Rate limit exceeded',
        `Rate limit of ${verdict.limit} requests per hour for ${apiNameOf(request.url)} exceeded`,
        verdict.headers,
      );
    }
  };
}

/** The API a rate-limit refusal names, as the platform's message does ("... for Table API exceeded"). */
function apiNameOf(url: string): string {
  return url.startsWith('/api/sn_sc/') ? 'Service Catalog API' : 'Table API';
}

export function callerOf(request: FastifyRequest): AuthenticatedUser {
  if (request.caller === null) throw notAuthenticated();
  return request.caller;
}

/** Counts an answered (or dropped) request in the instance's statistics. */
export function recordRequest(
  instance: SimulatedInstance,
  request: FastifyRequest,
  status: number | 'dropped',
): void {
  instance.stats.record({
    at: instance.now().toISOString(),
    method: request.method,
    url: request.url,
    status,
    user: request.caller?.userName,
  });
}

/** Destroys the connection without an answer, as a network failure or a crashed node would. */
function dropConnection(
  instance: SimulatedInstance,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  recordRequest(instance, request, 'dropped');
  reply.hijack();
  reply.raw.destroy();
  return reply;
}

/** Answers a committed write, unless a fail-after-commit fault loses the answer: the record stays written. */
export function answerAfterCommit(
  instance: SimulatedInstance,
  request: FastifyRequest,
  reply: FastifyReply,
  answer: () => FastifyReply,
): FastifyReply {
  const fault = instance.faults.afterCommit();
  if (fault?.kind === 'drop') return dropConnection(instance, request, reply);
  if (fault?.kind === 'error') {
    return sendApiError(reply, new ApiError(500, 'Internal Server Error', 'Simulated failure after commit'));
  }
  return answer();
}
