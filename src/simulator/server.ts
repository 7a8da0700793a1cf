/**
 * A ServiceNow stand-in over real HTTP, faithful to the platform facts the connector depends on (domain brief,
 * section 3), pinned by the contract tests in test/simulator/*.test.ts.
 *
 * Instance URLs: the Table API `/api/now/table/{table}[/{sys_id}]`, the Service Catalog
 * `/api/sn_sc/servicecatalog/items/{sys_id}/order_now`, and `/oauth_token.do`. Operator URLs (admin Basic
 * credentials, JSON, never faulted): `/sim/admin/tickets[/{number}[/{work|resolve|close|cancel}]]`, `seed`,
 * `stats`, `requests`, `reset`, `faults`, `hibernate`; the `snow-ticket sim` commands call them.
 */

import Fastify, { type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify';
import { isLoopbackHost } from '../http/loopback';
import { registerAdminRoutes } from './adminRoutes';
import { ApiError, sendApiError, unknownResource, unreadableRequest } from './apiErrors';
import { acceptBodilessJson } from './bodyParsing';
import { registerCatalogRoutes } from './catalogRoutes';
import { apiAuthentication, instanceGate, recordRequest, sendHibernationPage } from './gates';
import { SimulatedInstance } from './instance';
import { NO_FAULTS, type Faults } from './limits';
import type { NotifyOptions } from './notifications';
import { registerOAuthRoutes } from './oauthRoutes';
import { newSecret, newSysId, randomSeed } from './random';
import { StateSaver } from './stateFile';
import { registerTableRoutes } from './tableRoutes';

export { ACCESS_REQUEST_ITEM_SYS_ID, ADMIN_USER_SYS_ID, SEEDED_ROLES } from './seed';
export { UnsafeNotifyUrlError, type ChangeNotification, type NotifyOptions } from './notifications';
export { RATE_LIMIT_RULE_SYS_ID, type Faults } from './limits';

export interface SimulatorOptions {
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  /** Defaults to 127.0.0.1; anything but a loopback address needs `allowRemote`. */
  readonly host?: string;
  readonly allowRemote?: boolean;
  /** The instance's clock: token expiry, rate-limit windows and every timestamp follow it. */
  readonly now?: () => Date;
  /** The admin user; the password is generated when not given. */
  readonly admin?: { readonly login?: string; readonly password?: string };
  readonly oauth?: {
    readonly clientId?: string;
    readonly clientSecret?: string;
    /** The `client_credentials` grant, off by default as on the platform; runs as `user` (default: the admin). */
    readonly clientCredentials?: { readonly enabled: boolean; readonly user?: string };
  };
  /** An hourly rate-limit rule counting each user's requests. */
  readonly rateLimit?: { readonly requestsPerHour: number };
  /** Requests in flight beyond this are refused with a bare 429. */
  readonly maxConcurrent?: number;
  /** Faults in effect at startup (and after a reset); the admin API changes them at runtime. */
  readonly faults?: Partial<Faults>;
  /** Posts ticket changes to an external endpoint. */
  readonly notify?: NotifyOptions;
  /** Request bodies above this size are refused; 10 MB as on the platform. */
  readonly maxBodyBytes?: number;
  /** Makes faults and notification duplicates reproducible. */
  readonly randomSeed?: number;
  /** Logs every request (standalone use). */
  readonly verbose?: boolean;
  /**
   * Keeps the data across restarts: loaded at start when it exists (an unusable file stops the start), saved
   * shortly after changes and on close. See stateFile.ts for what it holds and what saving costs.
   */
  readonly stateFile?: string;
}

export interface SimulatorCredentials {
  readonly login: string;
  readonly password: string;
  readonly clientId: string;
  readonly clientSecret: string;
}

export interface SimulatorHandle {
  /** The instance URL, like `https://dev12345.service-now.com`. */
  readonly url: string;
  /** `<url>/api/now/table` */
  readonly tableApiUrl: string;
  /** `<url>/oauth_token.do` */
  readonly oauthUrl: string;
  readonly credentials: SimulatorCredentials;
  /** In-process access for benchmarks and demos (bulk seeding, faults). Contract tests go through HTTP. */
  readonly instance: SimulatedInstance;
  /** Closes every connection, cancels pending notifications and leaves no timer behind. */
  close(): Promise<void>;
}

const TEN_MEGABYTES = 10 * 1024 * 1024;

export async function startSimulator(options: SimulatorOptions = {}): Promise<SimulatorHandle> {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopbackHost(host) && options.allowRemote !== true) {
    throw new Error(
      `Refusing to listen on ${host}: set allowRemote (--allow-remote) to expose the simulator beyond loopback`,
    );
  }
  const maxBodyBytes = options.maxBodyBytes ?? TEN_MEGABYTES;
  const credentials: SimulatorCredentials = {
    login: options.admin?.login ?? 'admin',
    password: options.admin?.password ?? newSecret(18),
    clientId: options.oauth?.clientId ?? newSysId(),
    clientSecret: options.oauth?.clientSecret ?? newSecret(18),
  };
  const clientCredentials = options.oauth?.clientCredentials;
  const instance = new SimulatedInstance({
    now: options.now ?? (() => new Date()),
    admin: credentials,
    oauth: {
      clientId: credentials.clientId,
      clientSecret: credentials.clientSecret,
      clientCredentialsUser: clientCredentials?.enabled
        ? (clientCredentials.user ?? credentials.login)
        : undefined,
    },
    requestsPerHour: options.rateLimit?.requestsPerHour,
    maxConcurrent: options.maxConcurrent,
    faults: { ...NO_FAULTS, ...options.faults },
    notify: options.notify,
    randomSeed: options.randomSeed ?? randomSeed(),
  });
  const saver = options.stateFile === undefined ? undefined : await persist(instance, options.stateFile);

  const answerUnknownUrl = (reply: FastifyReply) =>
    instance.hibernating ? sendHibernationPage(reply) : sendApiError(reply, unknownResource());
  const app = Fastify({
    logger: options.verbose === true,
    forceCloseConnections: true,
    bodyLimit: maxBodyBytes,
    // A URL fastify cannot decode would otherwise get fastify's own error shape, which no instance answers.
    frameworkErrors: (_error, _request, reply) => {
      void answerUnknownUrl(reply);
    },
  });
  acceptBodilessJson(app);
  app.decorateRequest('caller', null);
  app.setErrorHandler((error: Error, request, reply) => answerError(error, request, reply, maxBodyBytes));
  app.setNotFoundHandler((_request, reply) => answerUnknownUrl(reply));
  await app.register(async (scope) => {
    scope.addHook('onRequest', instanceGate(instance));
    scope.addHook('onResponse', async (request, reply) => recordRequest(instance, request, reply.statusCode));
    await scope.register(async (oauth) => registerOAuthRoutes(oauth, instance));
    await scope.register(async (api) => {
      api.addHook('onRequest', apiAuthentication(instance));
      registerTableRoutes(api, instance);
      registerCatalogRoutes(api, instance);
    });
  });
  await app.register(async (admin) => registerAdminRoutes(admin, instance, credentials), {
    prefix: '/sim/admin',
  });

  const close = async () => {
    await app.close();
    try {
      await saver?.close();
    } finally {
      await instance.close();
    }
  };
  try {
    await app.listen({ host, port: options.port ?? 0 });
  } catch (error) {
    await close();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const url = `http://${urlHost(host)}:${port}`;
  return {
    url,
    tableApiUrl: `${url}/api/now/table`,
    oauthUrl: `${url}/oauth_token.do`,
    credentials,
    instance,
    close,
  };
}

/**
 * Loads the saved state and saves every change from now on. A new state file is written before the simulator
 * takes any request, so that a path that cannot be written fails the start rather than a later background save.
 * A loaded state is not written back: what loading changes (the admin login) is applied again at every start.
 */
async function persist(instance: SimulatedInstance, file: string): Promise<StateSaver> {
  const loaded = instance.loadState(file);
  const saver = new StateSaver(
    file,
    () => instance.stateSnapshot(),
    (error) => console.error(error.message),
    !loaded,
  );
  instance.store.watch(() => saver.changed());
  await saver.flush();
  return saver;
}

/** Errors of the instance URLs, in ServiceNow's envelope. Body errors (bad JSON, too large) are its 400. */
function answerError(
  error: Error,
  request: FastifyRequest,
  reply: FastifyReply,
  maxBodyBytes: number,
): FastifyReply {
  if (error instanceof ApiError) return sendApiError(reply, error);
  const { statusCode } = error as Partial<FastifyError>;
  if (statusCode === 413)
    return sendApiError(reply, unreadableRequest(`Request body larger than ${maxBodyBytes} bytes`));
  if (statusCode === 400 || statusCode === 415) return sendApiError(reply, unreadableRequest(error.message));
  request.log.error(error);
  return sendApiError(reply, new ApiError(500, 'Internal Server Error'));
}

/** A host as it appears in a URL; a wildcard address is reached through loopback. */
function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
