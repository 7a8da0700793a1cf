import type { CallPriority } from './budget';
import { ServiceNowClient, type ServiceNowClientOptions } from './client';

/** Unknown connection identifiers are a configuration error, reported with the identifiers that do exist. */
export class UnknownConnectionError extends Error {
  constructor(
    readonly connectionId: string,
    known: readonly string[],
  ) {
    super(
      `Connection '${connectionId}' is not defined under Connections` +
        (known.length === 0 ? ' (none is defined)' : ` (defined: ${known.join(', ')})`),
    );
    this.name = 'UnknownConnectionError';
  }
}

/**
 * The client options of every configured connection, by identifier. A Map, so that a connection named
 * "constructor" or "toString" exists only when it is configured.
 */
export type ServiceNowConnections = ReadonlyMap<string, ServiceNowClientOptions>;

/** A client per connection identifier; throws UnknownConnectionError for one that is not configured. */
export type ServiceNowClients = (connectionId: string) => ServiceNowClient;

export function createServiceNowClient(
  connections: ServiceNowConnections,
  connectionId: string,
): ServiceNowClient {
  const options = connections.get(connectionId);
  if (options === undefined) throw new UnknownConnectionError(connectionId, [...connections.keys()]);
  return new ServiceNowClient(options);
}

/** One client per connection, created on first use: activities share it, and with it the OAuth token. */
export function serviceNowClientPool(connections: ServiceNowConnections): ServiceNowClients {
  const clients = new Map<string, ServiceNowClient>();
  return (connectionId) => {
    let client = clients.get(connectionId);
    if (client === undefined) {
      client = createServiceNowClient(connections, connectionId);
      clients.set(connectionId, client);
    }
    return client;
  };
}

/**
 * The same clients with their calls queued as `priority` in each connection's budget (see
 * `ServiceNowClient.withPriority`), for activities that all call with one priority.
 */
export function withPriority(
  clients: ServiceNowClients,
  priority: CallPriority,
  options: { waitOutRateLimits?: boolean } = {},
): ServiceNowClients {
  return (connectionId) => clients(connectionId).withPriority(priority, options);
}
