import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { SettingsFile } from '../config/schema';
import { startSimulator, type SimulatorHandle } from '../servicenow/simulator/server';
import { isListening, PortInUseError } from './devServer';

/** The connection `npm start` adds for the simulator when the settings define none. */
export const SIMULATOR_CONNECTION_ID = 'Simulator';
export const DEFAULT_SIMULATOR_PORT = 8090;

export interface LocalSimulator {
  readonly handle: SimulatorHandle;
  /** The settings with a `Simulator` connection pointing at it. */
  readonly settings: SettingsFile;
  /** Where its credentials are kept between runs (readable only by the owner). */
  readonly credentialsFile: string;
}

const storedCredentials = z.object({ password: z.string().min(12), clientSecret: z.string().min(12) });

/**
 * Credentials survive restarts, so that `snow-ticket sim` and scripts keep working: taken from
 * `SNOW_SIM_PASSWORD` when set, else generated once into the data folder with owner-only permissions.
 */
function localCredentials(
  dataDir: string,
  env: NodeJS.ProcessEnv,
): { file: string; password: string; clientSecret: string } {
  const file = path.join(dataDir, 'simulator-credentials.json');
  const generate = () => randomBytes(18).toString('base64url');
  const stored = existsSync(file)
    ? storedCredentials.safeParse(JSON.parse(readFileSync(file, 'utf8')))
    : undefined;
  const credentials = stored?.success ? stored.data : { password: generate(), clientSecret: generate() };
  if (stored?.success !== true) writeFileSync(file, JSON.stringify(credentials, null, 2), { mode: 0o600 });
  return {
    file,
    password: env.SNOW_SIM_PASSWORD || credentials.password,
    clientSecret: credentials.clientSecret,
  };
}

/** Starts the bundled ServiceNow simulator on loopback for a stack that has no ServiceNow connection. */
export async function startLocalSimulator(
  settings: SettingsFile,
  dataDir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<LocalSimulator> {
  const port = Number(env.SNOW_SIM_PORT ?? DEFAULT_SIMULATOR_PORT);
  if (await isListening('127.0.0.1', port)) throw new PortInUseError(port, 'SNOW_SIM_PORT');
  const { file, password, clientSecret } = localCredentials(dataDir, env);
  const handle = await startSimulator({
    port,
    host: '127.0.0.1',
    admin: { password },
    oauth: { clientId: 'snow-ticket-connector', clientSecret },
  });
  const connection = {
    Server: handle.tableApiUrl,
    Login: handle.credentials.login,
    Password: password,
    ResponseSizeLimit: 1000,
  };
  return {
    handle,
    credentialsFile: file,
    settings: {
      ...settings,
      Connections: { ...settings.Connections, [SIMULATOR_CONNECTION_ID]: connection },
    },
  };
}
