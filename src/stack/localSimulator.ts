import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { SettingsFile } from '../config/schema';
import type { ResourceTypeMapping } from '../provisioning/ticketContent';
import type { NotifyOptions } from '../simulator/notifications';
import type { SimulatorHandle } from '../simulator/server';
import { isListening, PortInUseError } from './devServer';

/** The connection `npm start` adds for the simulator when the settings define none. */
export const SIMULATOR_CONNECTION_ID = 'Simulator';
export const DEFAULT_SIMULATOR_PORT = 8090;
/** The resource type the demo order (`examples/order.json`) asks for. */
export const DEMO_RESOURCE_TYPE = 'Demo_AppAccess';

/** The port `npm start` runs the simulator on, where `snow-ticket sim` looks for it by default. */
export function localSimulatorPort(env: NodeJS.ProcessEnv = process.env): number {
  return Number(env.SNOW_SIM_PORT ?? DEFAULT_SIMULATOR_PORT);
}

/** Where `npm start` keeps the simulator's admin password and OAuth secret, read by `snow-ticket sim` too. */
export function simulatorCredentialsFile(dataDir: string): string {
  return path.join(dataDir, 'simulator-credentials.json');
}

/** The simulator's records, next to the Temporal database whose workflows refer to them. */
export function simulatorStateFile(dataDir: string): string {
  return path.join(dataDir, 'servicenow-simulator.json');
}

export interface LocalSimulator {
  readonly handle: SimulatorHandle;
  /** The settings with a `Simulator` connection pointing at it. */
  readonly settings: SettingsFile;
  /** Where its credentials are kept between runs (readable only by the owner). */
  readonly credentialsFile: string;
  /**
   * Where the admin password in effect can be found, to be printed instead of it: `$SNOW_SIM_PASSWORD` when the
   * operator gave it (the file then keeps another, unused one), else the credentials file.
   */
  readonly passwordSource: string;
  /** Where its records are kept between runs. */
  readonly stateFile: string;
}

const storedCredentials = z.object({ password: z.string().min(12), clientSecret: z.string().min(12) });
type StoredCredentials = z.infer<typeof storedCredentials>;

/** The credentials kept in `dataDir`, or undefined when there are none or they are unreadable. */
export function readSimulatorCredentials(dataDir: string): StoredCredentials | undefined {
  try {
    const stored = storedCredentials.safeParse(
      JSON.parse(readFileSync(simulatorCredentialsFile(dataDir), 'utf8')),
    );
    return stored.success ? stored.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Credentials survive restarts, so that `snow-ticket sim` and scripts keep working: taken from
 * `SNOW_SIM_PASSWORD` when set, else generated once into the data folder with owner-only permissions.
 */
function localCredentials(
  dataDir: string,
  env: NodeJS.ProcessEnv,
): { file: string; password: string; passwordSource: string; clientSecret: string } {
  const file = simulatorCredentialsFile(dataDir);
  const generate = () => randomBytes(18).toString('base64url');
  const stored = readSimulatorCredentials(dataDir);
  const credentials = stored ?? { password: generate(), clientSecret: generate() };
  if (stored === undefined) writeFileSync(file, JSON.stringify(credentials, null, 2), { mode: 0o600 });
  const given = env.SNOW_SIM_PASSWORD;
  return {
    file,
    password: given || credentials.password,
    passwordSource: given ? '$SNOW_SIM_PASSWORD' : file,
    clientSecret: credentials.clientSecret,
  };
}

/** Starts the bundled ServiceNow simulator on loopback for a stack that has no ServiceNow connection. */
export async function startLocalSimulator(
  settings: SettingsFile,
  dataDir: string,
  env: NodeJS.ProcessEnv = process.env,
  /** Where it posts signed change notifications: the worker's push receiver (see localPush.ts). */
  notify?: NotifyOptions,
): Promise<LocalSimulator> {
  const port = localSimulatorPort(env);
  if (await isListening('127.0.0.1', port)) throw new PortInUseError(port, 'SNOW_SIM_PORT');
  const { file, password, passwordSource, clientSecret } = localCredentials(dataDir, env);
  const stateFile = simulatorStateFile(dataDir);
  // Loaded here rather than at the top: `snow-ticket sim` reads this module's paths without needing a server.
  const { startSimulator } = await import('../simulator/server');
  const handle = await startSimulator({
    port,
    host: '127.0.0.1',
    admin: { password },
    oauth: { clientId: 'snow-ticket-connector', clientSecret },
    // Temporal keeps the workflows in dataDir; the tickets they poll must survive a restart as well.
    stateFile,
    ...(notify === undefined ? {} : { notify }),
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
    passwordSource,
    stateFile,
    settings: withDemoMapping(
      { ...settings, Connections: { ...settings.Connections, [SIMULATOR_CONNECTION_ID]: connection } },
      handle.credentials.login,
    ),
  };
}

/**
 * The demo resource type's mapping: an incident raised by the simulator's admin. Its texts fit every change type,
 * since the demo order is also sent as Modified and Deleted.
 */
export function demoMapping(caller: string): ResourceTypeMapping {
  return {
    Connection: SIMULATOR_CONNECTION_ID,
    Table: 'incident',
    CallerId: caller,
    Category: 'Access',
    Impact: 'Low',
    Urgency: 'Low',
    TitleTemplate: '{{ChangeType}} {{ResourceType.Identifier}} for {{Owner.InternalDisplayName}}',
    DescriptionTemplate:
      'Please {{#if Deleted}}remove{{else if Modified}}change{{else}}grant{{/if}} ' +
      '{{ResourceType.Identifier}} for {{Owner.InternalDisplayName}} ({{Owner.Identifier}}).',
    AdditionalText:
      '{{#if Deleted}}Close this ticket once the access is removed; cancel it if it cannot be removed.' +
      '{{else if Modified}}Close this ticket once the access is changed; cancel it if it cannot be changed.' +
      '{{else}}Close this ticket once the access is in place; cancel it if it cannot be granted.{{/if}}',
    TicketSynchroIsNotAvailable: false,
  };
}

/**
 * The simulator is a demo: its tickets are closed by hand a minute later, not after days. Push tells the order at
 * once; the sweep runs every 15 seconds and the safety poll every few minutes, so that each layer shows within a
 * demo. A resource type for the example order is mapped unless the settings map it already.
 */
function withDemoMapping(settings: SettingsFile, caller: string): SettingsFile {
  const connector = settings.TicketConnector;
  return {
    ...settings,
    TicketConnector: {
      ...connector,
      Polling: { ...connector.Polling, FirstCheckAfter: 5_000, MaxInterval: 300_000 },
      Sweep: { ...connector.Sweep, Interval: 15_000 },
      ResourceTypeMappings: { [DEMO_RESOURCE_TYPE]: demoMapping(caller), ...connector.ResourceTypeMappings },
    },
  };
}
