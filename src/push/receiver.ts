/**
 * The push receiver: ServiceNow's business rule (deploy/servicenow/) posts a signed notice when one of the
 * connector's tickets changes, and the receiver tells the order waiting for that ticket to check it now
 * (signal `ticketChanged`). The notice is only a hint: the order re-reads its own ticket and ignores stale
 * notices, so late, repeated and out-of-order deliveries are harmless.
 *
 * `POST <Path>`, `application/json`, signed as src/push/signature.ts says. Answers, each a JSON object:
 * 202 `{result: 'signaled', order}` (plus `alsoSignaled` when several open orders share the ticket number);
 * 200 `{result: 'ignored', reason}` (unknown ticket, order ended);
 * refusals `{error}` that change nothing: 401 unsigned, bad signature, stale or future timestamp; 409 replayed
 * (a per-process cache, see replayCache.ts);
 * 413 larger than MaxBodyBytes; 415 not JSON; 400 malformed; 503 Temporal did not answer (send again).
 *
 * Nothing is logged per request; answers name the problem, never the secret or the body's content.
 */
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Client } from '@temporalio/client';
import { ConfigError } from '../config/configError';
import type { PushSettings } from '../config/schema';
import { noMetrics, type ConnectorMetrics } from '../platform/metrics';
import { parseNotice } from './notice';
import { signalTicketOrders } from './orderLookup';
import { ReplayCache } from './replayCache';
import { checkSignature, SIGNATURE_HEADER, TIMESTAMP_HEADER, type SignatureProblem } from './signature';

export interface PushReceiverOptions {
  readonly settings: PushSettings;
  /** Connected with the workers' payload converter: the signal's payload is encoded like any other. */
  readonly client: Client;
  /** Named in the answer when Temporal does not; the client's own namespace by default. */
  readonly namespace?: string;
  readonly metrics?: ConnectorMetrics;
  /** The clock timestamps are checked against. */
  readonly now?: () => Date;
}

export interface PushReceiverHandle {
  /** The endpoint to give the business rule: `http://<host>:<port><Path>`. */
  readonly url: string;
  readonly close: () => Promise<void>;
}

/**
 * How long a notice may wait for Temporal before it is answered 503: the sender may send it again, and the sweep
 * catches what push missed, so holding ServiceNow's outbound request longer gains nothing.
 */
const TEMPORAL_TIMEOUT_MS = 10_000;

/** At about 150 bytes an entry, a few MB at most; far more notices than a skew window sees. */
const REPLAY_CACHE_ENTRIES = 20_000;

const REFUSALS: Record<SignatureProblem, { status: number; error: string }> = {
  unsigned: {
    status: 401,
    error: `unsigned: send ${TIMESTAMP_HEADER} and ${SIGNATURE_HEADER} (see deploy/servicenow/README.md)`,
  },
  'bad-signature': {
    status: 401,
    error: `bad signature: ${SIGNATURE_HEADER} must be v1=<base64 HMAC-SHA256 of "<timestamp>.<body>"> with the shared secret`,
  },
  stale: { status: 401, error: `stale: ${TIMESTAMP_HEADER} is older than the allowed clock skew` },
  future: { status: 401, error: `future: ${TIMESTAMP_HEADER} is later than the allowed clock skew` },
};

/** A refusal: the status, the metric's outcome and what the sender reads. */
class PushRefusal extends Error {
  constructor(
    readonly statusCode: number,
    readonly outcome: string,
    message: string,
  ) {
    super(message);
  }
}

export function buildPushReceiver(options: PushReceiverOptions): FastifyInstance {
  const { settings, client } = options;
  const secret = settings.Secret;
  if (secret === undefined) {
    throw new ConfigError('the push receiver settings', [
      'TicketConnector.Push.Secret: is missing: the receiver needs the secret the business rule signs with',
    ]);
  }
  const metrics = options.metrics ?? noMetrics;
  const now = options.now ?? (() => new Date());
  const namespace = options.namespace ?? client.options.namespace;
  const replays = new ReplayCache(REPLAY_CACHE_ENTRIES);

  const app = Fastify({ logger: false, bodyLimit: settings.MaxBodyBytes });
  // The signature covers the bytes as sent: keep them, and parse only after they are verified.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) =>
    done(null, body),
  );

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, _request, reply) => {
    const refusal = refusalOf(error, settings.MaxBodyBytes, namespace);
    metrics.push(refusal.outcome);
    void reply.code(refusal.statusCode).send({ error: refusal.message });
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ error: `no route ${request.method} ${request.url.split('?')[0]}` });
  });

  app.post(settings.Path, async (request: FastifyRequest, reply) => {
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const check = checkSignature(
      {
        timestamp: request.headers[TIMESTAMP_HEADER.toLowerCase()],
        signature: request.headers[SIGNATURE_HEADER.toLowerCase()],
        body,
      },
      secret,
      now(),
      settings.MaxSkew,
    );
    if (!check.ok) {
      const { status, error } = REFUSALS[check.problem];
      throw new PushRefusal(status, check.problem, error);
    }
    const parsed = parseNotice(body);
    if (!parsed.ok) throw new PushRefusal(400, 'malformed', `malformed: ${parsed.problems.join('; ')}`);
    if (!replays.remember(check.signature, check.timestampMs + settings.MaxSkew, now().getTime())) {
      throw new PushRefusal(409, 'replayed', 'replayed: this signed request was already received');
    }
    let outcome;
    try {
      outcome = await client.withDeadline(Date.now() + TEMPORAL_TIMEOUT_MS, () =>
        signalTicketOrders(client, parsed.notice),
      );
    } catch (error) {
      // Not delivered: the same request, sent again, must not be taken for a replay.
      replays.forget(check.signature);
      throw error;
    }
    metrics.push(outcome.result);
    if (outcome.result === 'ignored') return reply.code(200).send(outcome);
    const [order, ...others] = outcome.orders;
    return reply
      .code(202)
      .send({ result: 'signaled', order, ...(others.length === 0 ? {} : { alsoSignaled: others }) });
  });
  return app;
}

function refusalOf(
  error: Error & { statusCode?: number; code?: string },
  maxBodyBytes: number,
  namespace: string,
): PushRefusal {
  if (error instanceof PushRefusal) return error;
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new PushRefusal(413, 'too-large', `too large: the body may be at most ${maxBodyBytes} bytes`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new PushRefusal(415, 'not-json', 'not JSON: send Content-Type: application/json');
  }
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    // Fastify's own 4xx messages (an empty JSON body, a bad header) name the problem, not the content.
    return new PushRefusal(error.statusCode, 'malformed', error.message);
  }
  return new PushRefusal(
    503,
    'unavailable',
    `Temporal (namespace ${namespace}) did not take the notice; send it again later`,
  );
}

/** Starts the receiver on TicketConnector.Push's Host and Port (0 picks a free port). */
export async function startPushReceiver(options: PushReceiverOptions): Promise<PushReceiverHandle> {
  const app = buildPushReceiver(options);
  const { Host: host, Port: port, Path: path } = options.settings;
  await app.listen({ host, port });
  const address = app.server.address();
  const listening = typeof address === 'object' && address !== null ? address.port : port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return { url: `http://${shownHost}:${listening}${path}`, close: () => app.close() };
}
