import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { startChild, type Child } from '../chaos/children';
import { GiveUp, until } from '../chaos/timing';
import type { ServerBuild } from './serverBinaries';
import { CONFIG_ENV, ROLES, type Role, type ServerConfig } from './serverConfig';

const LISTEN_TIMEOUT_MS = 90_000;

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(2_000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Starts one process per server role (`temporal-server start --service <role>`), all on the same config, and
 * resolves once every role listens. A role that exits during start-up fails the start at once,
 * naming its log file.
 */
export async function startServerProcesses(
  build: ServerBuild,
  config: ServerConfig,
  logDir: string,
): Promise<Map<Role, Child>> {
  const children = new Map<Role, Child>();
  try {
    for (const role of ROLES) {
      // `--root /` because the server joins --root and --config: an absolute --config then stays absolute.
      // prettier-ignore
      const args = [
        '--root', '/', '--config', config.configDir, '--env', CONFIG_ENV, '--allow-no-auth',
        'start', '--service', role,
      ];
      children.set(
        role,
        startChild(`temporal ${role}`, build.server, args, {
          logFile: path.join(logDir, `temporal-${role}.log`),
        }),
      );
    }
    for (const [role, child] of children) {
      // The worker role serves no gRPC API (it runs Temporal's system workflows): it only joins the ring.
      const port = role === 'worker' ? config.ports[role].membership : config.ports[role].grpc;
      await until(
        `the Temporal ${role} service on 127.0.0.1:${port}`,
        async () => {
          if (!child.isRunning()) {
            const logFile = path.join(logDir, `temporal-${role}.log`);
            // The test removes its folder afterwards: the log's end goes into the message.
            throw new GiveUp(
              `The Temporal ${role} service exited; ${logFile} ends with:\n${logTail(logFile)}`,
            );
          }
          return (await listening(port)) ? true : undefined;
        },
        { timeoutMs: LISTEN_TIMEOUT_MS, intervalMs: 250 },
      );
    }
    return children;
  } catch (error) {
    await stopServerProcesses(children);
    throw error;
  }
}

/** SIGTERM to every role at once (the server drains), SIGKILL after a grace period. */
export async function stopServerProcesses(children: ReadonlyMap<Role, Child>): Promise<void> {
  await Promise.all([...children.values()].map((child) => child.stop(15_000)));
}

function logTail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
