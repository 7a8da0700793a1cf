import type { SettingsFile } from '../config/schema';
import type { ServiceNowCredentials } from './auth';
import { ServiceNowClient, type ServiceNowClientOptions } from './client';

export type ConnectionSettings = SettingsFile['Connections'][string];

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

/** OAuth when ClientId, ClientSecret and OAuth2Url are set (as in the reference), Basic otherwise. */
export function credentialsOf(connection: ConnectionSettings): ServiceNowCredentials {
  const { ClientId, ClientSecret, OAuth2Url, Login, Password } = connection;
  if (ClientId !== undefined && ClientSecret !== undefined && OAuth2Url !== undefined) {
    return {
      kind: 'oauth',
      tokenUrl: OAuth2Url,
      clientId: ClientId,
      clientSecret: ClientSecret,
      login: Login,
      password: Password,
    };
  }
  // The settings schema guarantees Login and Password when OAuth is not configured.
  return { kind: 'basic', login: Login ?? '', password: Password ?? '' };
}

export function clientOptionsOf(connection: ConnectionSettings): ServiceNowClientOptions {
  return {
    tableApiUrl: connection.Server,
    credentials: credentialsOf(connection),
    pageSize: connection.ResponseSizeLimit,
  };
}

export function createServiceNowClient(settings: SettingsFile, connectionId: string): ServiceNowClient {
  // Own keys only: a connection named "constructor" or "toString" exists only if the settings define it.
  const connection = Object.hasOwn(settings.Connections, connectionId)
    ? settings.Connections[connectionId]
    : undefined;
  if (connection === undefined)
    throw new UnknownConnectionError(connectionId, Object.keys(settings.Connections));
  return new ServiceNowClient(clientOptionsOf(connection));
}

/** One client per connection, created on first use: activities share it, and with it the OAuth token. */
export function serviceNowClientPool(settings: SettingsFile): (connectionId: string) => ServiceNowClient {
  const clients = new Map<string, ServiceNowClient>();
  return (connectionId) => {
    let client = clients.get(connectionId);
    if (client === undefined) {
      client = createServiceNowClient(settings, connectionId);
      clients.set(connectionId, client);
    }
    return client;
  };
}
