import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Worker } from '@temporalio/worker';
import type { z } from 'zod';
import { ConfigError } from '../config/load';
import { healthHostSchema, healthPortSchema } from '../config/workerIdentity';

/** Where the health endpoint listens; undefined in healthEndpoint() when no port is configured. */
export interface HealthEndpoint {
  port: number;
  /** An interface address: loopback unless an orchestrator probes from outside the host or container. */
  host: string;
}

/**
 * Loopback by default: the Dockerfile's and docker-compose's probes run inside the container, and nothing else
 * needs to reach a worker's state. An orchestrator probing over the network (a Kubernetes httpGet probe) sets
 * WORKER_HEALTH_HOST (or Worker.HealthHost) to 0.0.0.0.
 */
export const DEFAULT_HEALTH_HOST = '127.0.0.1';

/**
 * The endpoint from WORKER_HEALTH_PORT / WORKER_HEALTH_HOST, else `TicketConnector.Worker`'s settings. Throws
 * ConfigError, naming the variable, for a port that is no port or a host that is no address or host name.
 */
export function healthEndpoint(
  settings: { HealthPort?: number; HealthHost?: string },
  env: NodeJS.ProcessEnv,
): HealthEndpoint | undefined {
  const port = fromEnvironment(env, 'WORKER_HEALTH_PORT', healthPortSchema) ?? settings.HealthPort;
  if (port === undefined) return undefined;
  const host = fromEnvironment(env, 'WORKER_HEALTH_HOST', healthHostSchema) ?? settings.HealthHost;
  return { port, host: host ?? DEFAULT_HEALTH_HOST };
}

function fromEnvironment<T>(env: NodeJS.ProcessEnv, name: string, schema: z.ZodType<T>): T | undefined {
  const value = env[name];
  if (value === undefined) return undefined;
  const checked = schema.safeParse(value);
  if (checked.success) return checked.data;
  throw new ConfigError(
    'the environment',
    checked.error.issues.map((issue) => `${name}: ${issue.message}`),
  );
}

/**
 * A liveness endpoint for container orchestrators: 200 while the worker polls its task queue, 503 while it
 * starts, drains or has failed. It reports state only; nothing about tickets or configuration.
 */
export async function startHealthServer(
  worker: Pick<Worker, 'getState'>,
  port: number,
  host: string = DEFAULT_HEALTH_HOST,
): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url !== '/healthz') {
      response.writeHead(404).end();
      return;
    }
    const state = worker.getState();
    response
      .writeHead(state === 'RUNNING' ? 200 : 503, { 'content-type': 'application/json' })
      .end(JSON.stringify({ state }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}

export function healthServerPort(server: Server): number {
  return (server.address() as AddressInfo).port;
}
