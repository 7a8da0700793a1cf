import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import formbody from '@fastify/formbody';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';

/**
 * A small Identity Manager on loopback for the HTTP assignment store: it accepts transitions at any path under
 * `/api/`, issues OAuth tokens at `/oauth/token` and fails on request.
 *
 * It answers as src/assignments/acknowledgement.ts documents: `{"status": "applied"}` for a transition kept now.
 * Repeats: a transition whose `Idempotency-Key` was accepted before is answered 409 Conflict with
 * `{"status": "already-applied"}` by default (a state-change API that refuses to apply a change twice).
 * `repeat: 'replay'` answers 200 again instead, as APIs following the IETF Idempotency-Key draft replay the
 * first answer; the store then cannot tell, and reports the repeat as applied. Either way it is kept once.
 *
 * Like the Identity Manager the store documents, it never moves an order backwards: a Transmitted for an order
 * that already holds a final state (`isFinal`) is answered 409 with `{"status": "superseded"}` and not kept.
 */

export type Fault =
  /**
   * Answer with this status instead. `echoAuthorization` puts the received Authorization header in the error's
   * `detail`, as careless servers and proxies do, to prove the client never shows it.
   */
  | {
      readonly kind: 'status';
      readonly status: number;
      readonly headers?: Readonly<Record<string, string>>;
      readonly body?: Readonly<Record<string, unknown>>;
      readonly echoAuthorization?: boolean;
    }
  /** Answer this status with this body as it is, e.g. a gateway's HTML sign-in page with status 200. */
  | { readonly kind: 'raw'; readonly status: number; readonly contentType?: string; readonly body: string }
  /** Never answer (until the fake is closed). */
  | { readonly kind: 'hang' }
  /** Drop the connection without an answer. */
  | { readonly kind: 'reset' };

export interface FakeIdentityManagerOptions {
  /** Requires `Authorization: Bearer <token>` on the API. */
  readonly bearerToken?: string;
  /** Requires a token issued by `/oauth/token` for these client credentials. */
  readonly oauth?: {
    readonly clientId: string;
    readonly clientSecret: string;
    /** Seconds; `null` leaves `expires_in` out of the answer. Default 3600. */
    readonly expiresIn?: number | null;
  };
  readonly repeat?: 'conflict' | 'replay';
}

export interface ReceivedRequest {
  readonly method: string;
  /** Path and query as sent, still encoded. */
  readonly url: string;
  readonly idempotencyKey?: string;
  readonly authorization?: string;
  readonly contentType?: string;
  readonly body: unknown;
}

export interface TokenRequest {
  readonly grantType?: string;
  readonly clientId?: string;
  readonly scope?: string;
  readonly secretMatched: boolean;
  readonly contentType?: string;
}

export interface FakeIdentityManager {
  /** Base URL, `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly tokenUrl: string;
  /** Transitions accepted, once per Idempotency-Key. */
  readonly received: ReceivedRequest[];
  /** Every call to the API: repeats, refusals and faults included. */
  readonly requests: ReceivedRequest[];
  readonly tokenRequests: TokenRequest[];
  /** The provisioning state an order holds, as the accepted transitions left it. */
  stateOf(orderId: string): string | undefined;
  /** Fails the next `count` calls to the API (token requests are not affected) with `fault`. */
  failNext(count: number, fault: Fault): void;
  /** Makes every token issued so far invalid, as an expiry or revocation on the server's side would. */
  revokeTokens(): void;
  close(): Promise<void>;
}

const REQUIRED_FIELDS = ['orderId', 'assignmentId', 'connection', 'resourceType', 'changeType', 'at'];

export async function startFakeIdentityManager(
  options: FakeIdentityManagerOptions = {},
): Promise<FakeIdentityManager> {
  const app = Fastify({ forceCloseConnections: true });
  await app.register(formbody);
  const received: ReceivedRequest[] = [];
  const requests: ReceivedRequest[] = [];
  const tokenRequests: TokenRequest[] = [];
  const faults: Fault[] = [];
  const issued = new Set<string>();
  const accepted = new Set<string>();
  const states = new Map<string, { state: string; isFinal: boolean }>();
  const hanging = new Set<FastifyRequest>();

  app.post('/oauth/token', (request, reply) => {
    const form = (typeof request.body === 'object' && request.body !== null ? request.body : {}) as Record<
      string,
      unknown
    >;
    const field = (name: string) => (typeof form[name] === 'string' ? form[name] : undefined);
    const oauth = options.oauth;
    const secretMatched = oauth !== undefined && field('client_secret') === oauth.clientSecret;
    tokenRequests.push({
      grantType: field('grant_type'),
      clientId: field('client_id'),
      scope: field('scope'),
      secretMatched,
      contentType: request.headers['content-type'],
    });
    if (
      oauth === undefined ||
      request.headers['content-type'] !== 'application/x-www-form-urlencoded' ||
      field('grant_type') !== 'client_credentials' ||
      field('client_id') !== oauth.clientId ||
      !secretMatched
    ) {
      return reply.code(401).send({ error: 'invalid_client' });
    }
    const token = `fake-im-token-${randomBytes(12).toString('hex')}`;
    issued.add(token);
    const expiresIn = oauth.expiresIn === undefined ? 3600 : oauth.expiresIn;
    return reply.send({
      access_token: token,
      token_type: 'Bearer',
      ...(expiresIn !== null && { expires_in: expiresIn }),
    });
  });

  const handleTransition = async (request: FastifyRequest, reply: FastifyReply) => {
    const header = (name: string) => {
      const value = request.headers[name];
      return typeof value === 'string' ? value : undefined;
    };
    const call: ReceivedRequest = {
      method: request.method,
      url: request.url,
      idempotencyKey: header('idempotency-key'),
      authorization: header('authorization'),
      contentType: header('content-type'),
      body: request.body,
    };
    requests.push(call);
    const fault = faults.shift();
    if (fault?.kind === 'hang') {
      hanging.add(request);
      return reply; // never sent: the socket is destroyed on close
    }
    if (fault?.kind === 'reset') {
      reply.hijack();
      request.raw.socket.destroy();
      return reply;
    }
    if (fault?.kind === 'raw') {
      if (fault.contentType !== undefined) reply.header('content-type', fault.contentType);
      return reply.code(fault.status).send(fault.body);
    }
    if (fault?.kind === 'status') {
      const echo =
        fault.echoAuthorization === true
          ? { detail: `sent with Authorization: ${call.authorization ?? 'none'}` }
          : {};
      return reply
        .code(fault.status)
        .headers(fault.headers ?? {})
        .send({ message: `injected ${fault.status}`, ...fault.body, ...echo });
    }
    if (!authorized(call.authorization)) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer error="invalid_token"')
        .send({ error: 'invalid_token' });
    }
    const problem = checkBody(call);
    if (problem !== undefined) return reply.code(400).send({ message: problem });
    const key = call.idempotencyKey ?? '';
    if (accepted.has(key)) {
      return options.repeat === 'replay'
        ? reply.send({ status: 'applied' })
        : reply
            .code(409)
            .send({ status: 'already-applied', message: `transition ${key} was already applied` });
    }
    const body = call.body as { orderId: string; provisioningState: string; isFinal: boolean };
    if (states.get(body.orderId)?.isFinal === true && !body.isFinal) {
      return reply
        .code(409)
        .send({ status: 'superseded', message: `order ${body.orderId} already holds a final state` });
    }
    accepted.add(key);
    received.push(call);
    states.set(body.orderId, { state: body.provisioningState, isFinal: body.isFinal });
    return reply.send({ status: 'applied' });
  };
  app.route({ method: ['POST', 'PUT', 'PATCH'], url: '/api/*', handler: handleTransition });

  function authorized(authorization: string | undefined): boolean {
    if (options.bearerToken !== undefined) return authorization === `Bearer ${options.bearerToken}`;
    if (options.oauth !== undefined) {
      const token =
        authorization?.startsWith('Bearer ') === true ? authorization.slice('Bearer '.length) : '';
      return issued.has(token);
    }
    return true;
  }

  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return {
    url,
    tokenUrl: `${url}/oauth/token`,
    received,
    requests,
    tokenRequests,
    stateOf: (orderId) => states.get(orderId)?.state,
    failNext(count, fault) {
      for (let i = 0; i < count; i += 1) faults.push(fault);
    },
    revokeTokens() {
      issued.clear();
    },
    async close() {
      for (const request of hanging) request.raw.socket.destroy();
      await app.close();
    },
  };
}

/** What a real API would check: the fields it needs, and a key that names this order and state. */
function checkBody(call: ReceivedRequest): string | undefined {
  if (call.contentType?.startsWith('application/json') !== true) return 'expected a JSON body';
  const body = call.body as Record<string, unknown> | null;
  if (typeof body !== 'object' || body === null) return 'expected a JSON object';
  const missing = REQUIRED_FIELDS.filter((field) => typeof body[field] !== 'string');
  if (typeof body.provisioningState !== 'string') missing.push('provisioningState');
  if (typeof body.provisioningStateCode !== 'number') missing.push('provisioningStateCode');
  if (typeof body.isFinal !== 'boolean') missing.push('isFinal');
  if (missing.length > 0) return `missing or invalid: ${missing.join(', ')}`;
  const expectedKey = `${encodeURIComponent(String(body.orderId))}:${String(body.provisioningState)}`;
  if (call.idempotencyKey !== expectedKey) return `Idempotency-Key must be ${expectedKey}`;
  return undefined;
}
