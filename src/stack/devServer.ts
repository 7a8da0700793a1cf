import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface DevServerOptions {
  cli: string;
  dataDir: string;
  ip: string;
  port: number;
  uiPort: number;
  namespace: string;
  /** The codec server the Web UI asks to decode payloads (`--ui-codec-endpoint`). */
  codecEndpoint?: string;
}

export interface DevServer {
  grpcAddress: string;
  uiUrl: string;
  dbFile: string;
  logFile: string;
  child: ChildProcess;
  /** Resolves with the exit code once the server process is gone. */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

export class PortInUseError extends Error {
  constructor(
    readonly port: number,
    setting = 'TEMPORAL_ADDRESS / TEMPORAL_UI_PORT',
  ) {
    super(
      `Port ${port} is already in use: another server (or an earlier \`npm start\`) may be running. ` +
        `Stop it, or set ${setting} to a free port.`,
    );
    this.name = 'PortInUseError';
  }
}

export function isListening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect({ host, port });
    socket.setTimeout(1000);
    const finish = (listening: boolean) => {
      socket.destroy();
      resolve(listening);
    };
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
    socket.once('timeout', () => finish(false));
  });
}

/**
 * Starts `temporal server start-dev` persisted to SQLite, so a second start finds the workflows that were
 * open before. Server output goes to a log file in the data folder to keep the console readable.
 */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  for (const port of [options.port, options.uiPort]) {
    if (await isListening(options.ip, port)) throw new PortInUseError(port);
  }
  mkdirSync(options.dataDir, { recursive: true });
  const dbFile = path.join(options.dataDir, 'temporal.db');
  const logFile = path.join(options.dataDir, 'temporal-server.log');
  const log = openSync(logFile, 'a');
  const child = spawn(
    options.cli,
    [
      'server',
      'start-dev',
      '--db-filename',
      dbFile,
      '--ip',
      options.ip,
      '--port',
      String(options.port),
      '--ui-port',
      String(options.uiPort),
      '--namespace',
      options.namespace,
      '--log-level',
      'warn',
      // The machine may be offline; the UI's news feed would only fail.
      '--ui-disable-news-fetch',
      ...(options.codecEndpoint === undefined ? [] : ['--ui-codec-endpoint', options.codecEndpoint]),
    ],
    // Its own process group: a terminal's Ctrl-C reaches only us, so the worker drains while the server is
    // still up, and the server stops after it (stopping both at once makes the worker's shutdown crawl).
    { stdio: ['ignore', log, log], detached: true },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // Never leave a server behind, even when we exit on an error path that skipped stop().
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  void exited.then(() => process.removeListener('exit', killOnExit));

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      // Unreferenced: a pending grace timer must not keep the process alive once the server is gone.
      const forced = sleep(15_000, 'timeout' as const, { ref: false });
      if ((await Promise.race([exited, forced])) === 'timeout') {
        child.kill('SIGKILL');
        await exited;
      }
    })();
    return stopping;
  };

  // Bounded wait: the SQLite schema setup on first start takes a few seconds on a loaded machine.
  const deadline = Date.now() + 60_000;
  while (!(await isListening(options.ip, options.port)) || !(await isListening(options.ip, options.uiPort))) {
    if (child.exitCode !== null) {
      throw new Error(`The Temporal dev server exited with code ${child.exitCode}; see ${logFile}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `The Temporal dev server did not listen on port ${options.port} within 60 s; see ${logFile}`,
      );
    }
    await sleep(250);
  }
  return {
    grpcAddress: `${options.ip}:${options.port}`,
    uiUrl: `http://localhost:${options.uiPort}`,
    dbFile,
    logFile,
    child,
    exited,
    stop,
  };
}
