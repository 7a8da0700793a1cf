import { loadClientConfigProfile, toClientOptions, type ClientConnectConfig } from '@temporalio/envconfig';
import type { SettingsFile } from './schema';

const DEFAULT_TEMPORAL_ADDRESS = 'localhost:7233';
const DEFAULT_TEMPORAL_NAMESPACE = 'default';

export interface TemporalTarget extends ClientConnectConfig {
  /** Also in connectionOptions; repeated here because it is always set. */
  address: string;
  namespace: string;
  taskQueue: string;
}

/**
 * Temporal's own conventions win over our file, so that a worker configured like every other Temporal
 * worker (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE and
 * the TOML profile file) behaves as operators expect. Order: environment > appsettings > TOML profile.
 */
export function resolveTemporalTarget(
  settings: SettingsFile,
  env: NodeJS.ProcessEnv = process.env,
): TemporalTarget {
  const envVars = Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  const fromFile = loadClientConfigProfile({ disableEnv: true, overrideEnvVars: envVars });
  const fromEnv = loadClientConfigProfile({ disableFile: true, overrideEnvVars: envVars });
  const ours = settings.TicketConnector.Temporal;
  const address = fromEnv.address ?? ours.Address ?? fromFile.address ?? DEFAULT_TEMPORAL_ADDRESS;
  const namespace = fromEnv.namespace ?? ours.Namespace ?? fromFile.namespace ?? DEFAULT_TEMPORAL_NAMESPACE;
  const connect = toClientOptions({ ...fromFile, ...definedOnly(fromEnv), address, namespace });
  return { ...connect, address, namespace, taskQueue: ours.TaskQueue };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter((entry) => entry[1] !== undefined)) as Partial<T>;
}
