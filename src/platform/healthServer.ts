import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Worker } from '@temporalio/worker';

/**
 * A liveness endpoint for container orchestrators: 200 while the worker polls its task queue, 503 while it
 * starts, drains or has failed. It reports state only; nothing about tickets or configuration.
 */
export async function startHealthServer(worker: Pick<Worker, 'getState'>, port: number): Promise<Server> {
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
    server.listen(port, '0.0.0.0', () => resolve());
  });
  return server;
}

export function healthServerPort(server: Server): number {
  return (server.address() as AddressInfo).port;
}
