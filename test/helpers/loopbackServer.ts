import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before } from 'node:test';

export type Handler = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * A plain HTTP server on 127.0.0.1 for the suite it is called in, answering as `handle` says: tests that
 * script a misbehaving peer swap what `handle` delegates to. `url` is its base URL once the suite has started.
 */
export function useLoopbackServer(handle: Handler): { readonly url: string } {
  const server = createServer(handle);
  let url = '';
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return {
    get url() {
      return url;
    },
  };
}
