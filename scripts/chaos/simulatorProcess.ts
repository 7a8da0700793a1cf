import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { childEnv, startNodeChild, type Child } from './children';
import { SimulatorAdmin, type SimulatorAccess } from './simulatorAdmin';

export interface RunningSimulator extends SimulatorAccess {
  /** `<url>/api/now/table`, the connection's `Server`. */
  readonly tableApiUrl: string;
  readonly admin: SimulatorAdmin;
  readonly child: Child;
}

/**
 * The ServiceNow simulator in its own process on a free loopback port, faults seeded for a reproducible mix.
 * With `notify`, it posts signed change notifications to `notify.url` as the business rule does; the secret goes
 * through the environment, so that it never shows in the process list.
 */
export async function startSimulatorProcess(options: {
  readonly dir: string;
  readonly randomSeed: number;
  readonly notify?: { readonly url: string; readonly secret: string };
}): Promise<RunningSimulator> {
  const password = randomBytes(12).toString('base64url');
  // prettier-ignore
  const args = [
    '--port', '0', '--host', '127.0.0.1', '--admin-password', password,
    '--random-seed', String(options.randomSeed),
    ...(options.notify === undefined ? [] : ['--notify-url', options.notify.url]),
  ];
  const child = startNodeChild('simulator', 'src/simulator/main.ts', args, {
    logFile: path.join(options.dir, 'simulator.log'),
    env: childEnv(options.notify === undefined ? {} : { SNOW_SIM_NOTIFY_SECRET: options.notify.secret }),
  });
  try {
    const [, url] = await child.waitForLine(/listening on (http:\/\/\S+)/, 60_000);
    const access = { url: url as string, login: 'admin', password };
    return {
      ...access,
      tableApiUrl: `${access.url}/api/now/table`,
      admin: new SimulatorAdmin(access),
      child,
    };
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
}
