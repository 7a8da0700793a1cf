/**
 * The codec server: the connector's payload codec over HTTP, so that the Temporal Web UI (and the `temporal` CLI,
 * `--codec-endpoint`) show decrypted payloads to authorised operators. The protocol is Temporal's: `POST
 * /encode` and `POST /decode` (also under `/<namespace>/`), a proto3 JSON `Payloads` body in and out, the
 * namespace in `X-Namespace`. The Web UI calls it from the browser, so it answers CORS preflights for the
 * configured origins, with credentials (see codecAuth.ts for the bearer token and the `/login` session cookie).
 *
 * Only payloads cross it, never keys; errors name key ids, never data. Nothing is logged per request.
 */
import formbody from '@fastify/formbody';
import cors from '@fastify/cors';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Keyring } from './keyring';
import { CodecAuth, DEFAULT_SESSION_SECONDS } from './codecAuth';
import { loginPage } from './loginPage';
import { AesGcmPayloadCodec, PayloadDecryptionError, PayloadKeyMissingError } from './payloadCodec';
import { payloadsFromJson, payloadsJson, payloadsToJson } from './payloadJson';

export interface CodecServerOptions {
  readonly keyring: Keyring;
  /** The secret every caller presents (TicketConnector.Encryption.CodecServer.Token). */
  readonly token: string;
  /** Web UI origins allowed to call from the browser, e.g. `http://localhost:8233`. */
  readonly allowedOrigins: readonly string[];
  /** When given, only these namespaces are served. */
  readonly namespaces?: readonly string[];
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  readonly host?: string;
  /** Request bodies above this are refused with 413; the UI sends one event's payloads at a time. */
  readonly maxBodyBytes?: number;
  readonly sessionSeconds?: number;
}

export interface CodecServerHandle {
  /** `http://<host>:<port>`: the endpoint to give the Web UI (`--ui-codec-endpoint`, TEMPORAL_CODEC_ENDPOINT). */
  readonly url: string;
  readonly port: number;
  readonly close: () => Promise<void>;
}

/** A request the server refuses; the message is what the caller reads (never payload data or a secret). */
class CodecRequestError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;

export function buildCodecServer(options: CodecServerOptions): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES });
  const auth = new CodecAuth(options.token, options.sessionSeconds ?? DEFAULT_SESSION_SECONDS);
  const decoder = new AesGcmPayloadCodec(options.keyring, { encrypt: false });
  const encoder =
    options.keyring.active() === undefined
      ? undefined
      : new AesGcmPayloadCodec(options.keyring, { encrypt: true });
  const origins = new Set(options.allowedOrigins);
  // A UI served over https can only call an https codec server (mixed content is blocked), which may sit behind
  // a TLS proxy that this process cannot see: the session cookie is then Secure either way.
  const httpsUi = options.allowedOrigins.some((origin) => origin.startsWith('https:'));
  const secureCookie = (request: FastifyRequest) => httpsUi || request.protocol === 'https';

  void app.register(cors, {
    // Only the configured origins get CORS headers; any other page's browser refuses to read the answer.
    origin: (origin, callback) => callback(null, origin !== undefined && origins.has(origin)),
    credentials: true,
    methods: ['POST'],
    // Authorization-Extras: the UI adds the user's id token to the access token when it passes one.
    allowedHeaders: ['Authorization', 'Authorization-Extras', 'Content-Type', 'X-Namespace'],
    maxAge: 600,
  });
  void app.register(formbody);

  app.setErrorHandler((error: Error & { statusCode?: number }, _request, reply) => {
    const status =
      error instanceof CodecRequestError
        ? error.statusCode
        : error instanceof PayloadKeyMissingError || error instanceof PayloadDecryptionError
          ? 422
          : error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500
            ? error.statusCode
            : 500;
    const known =
      error instanceof CodecRequestError ||
      error instanceof PayloadKeyMissingError ||
      error instanceof PayloadDecryptionError ||
      status < 500;
    // Fastify's own 4xx messages (body too large, invalid JSON) name the problem, not the content.
    void reply.code(status).send({ error: known ? error.message : 'internal error' });
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ error: `no route ${request.method} ${request.url.split('?')[0]}` });
  });

  const requireCaller = (request: FastifyRequest) => {
    if (!auth.authorised(request.headers)) {
      throw new CodecRequestError(
        401,
        'not authorised: send Authorization: Bearer <codec server token>, or sign in at /login',
      );
    }
    if (!(request.headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) {
      // Also keeps cross-site "simple" form posts out: a JSON body always needs a CORS preflight.
      throw new CodecRequestError(415, 'the body must be application/json');
    }
    const namespace =
      (request.params as { namespace?: string }).namespace ?? headerText(request.headers['x-namespace']);
    if (options.namespaces !== undefined && !options.namespaces.includes(namespace ?? '')) {
      throw new CodecRequestError(
        403,
        `namespace "${namespace ?? ''}" is not served here (TicketConnector.Encryption.CodecServer.Namespaces)`,
      );
    }
  };

  const parse = (body: unknown) => {
    const parsed = payloadsJson.safeParse(body);
    if (!parsed.success) {
      throw new CodecRequestError(
        400,
        'the body must be {"payloads": [{"metadata": {"<key>": "<base64>"}, "data": "<base64>"}]}',
      );
    }
    return payloadsFromJson(parsed.data);
  };

  const decode = async (request: FastifyRequest) => {
    requireCaller(request);
    return payloadsToJson(await decoder.decode(parse(request.body)));
  };
  const encode = async (request: FastifyRequest) => {
    requireCaller(request);
    const payloads = parse(request.body);
    if (encoder === undefined) {
      throw new CodecRequestError(
        409,
        'no payload key is active here (TicketConnector.Encryption.ActiveKey), so nothing can be encoded',
      );
    }
    return payloadsToJson(await encoder.encode(payloads));
  };
  app.post('/decode', decode);
  app.post('/encode', encode);
  app.post('/:namespace/decode', decode);
  app.post('/:namespace/encode', encode);

  app.get('/health', async () => ({ status: 'ok' }));

  app.get('/login', async (_request, reply) => sendPage(reply, 200, loginPage({ state: 'form' })));
  app.post('/login', async (request, reply) => {
    const body = request.body as { token?: unknown } | undefined;
    const given = typeof body?.token === 'string' ? body.token : '';
    if (given === '' || !auth.checkToken(given)) {
      return sendPage(reply, 401, loginPage({ state: 'refused' }));
    }
    void reply.header('set-cookie', auth.sessionCookie(secureCookie(request)));
    return sendPage(
      reply,
      200,
      loginPage({
        state: 'signed-in',
        hours: (options.sessionSeconds ?? DEFAULT_SESSION_SECONDS) / 3600,
        origins: [...origins],
      }),
    );
  });
  app.post('/logout', async (request, reply) => {
    void reply.header('set-cookie', CodecAuth.clearedCookie(secureCookie(request)));
    return sendPage(reply, 200, loginPage({ state: 'signed-out' }));
  });
  return app;
}

export async function startCodecServer(options: CodecServerOptions): Promise<CodecServerHandle> {
  const app = buildCodecServer(options);
  const host = options.host ?? '127.0.0.1';
  await app.listen({ port: options.port ?? 0, host });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : (options.port ?? 0);
  // The browser reaches a loopback server as localhost: the UI's page is served from localhost too, and the
  // session cookie is only sent between pages of the same site (127.0.0.1 and localhost are two sites).
  const shownHost = host === '127.0.0.1' || host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return { url: `http://${shownHost}:${port}`, port, close: () => app.close() };
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function sendPage(reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('x-frame-options', 'DENY')
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
    .send(html);
}
