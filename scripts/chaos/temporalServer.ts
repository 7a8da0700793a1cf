import { createServer } from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { registerSearchAttributes } from '../../src/platform/registerSearchAttributes';
import { requireBinary } from '../../src/platform/temporalBinaries';
import { startChild, type Child } from './children';
import { GiveUp, until } from './timing';

const NAMESPACE = 'default';
const READY_TIMEOUT_MS = 120_000;

/** A free TCP port on loopback (asked of the OS, then released for the caller to listen on). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A Temporal dev server (loopback, headless) persisted to a SQLite file, so that it can be stopped and started
 * again on the same port keeping every workflow. The connector's search attributes are registered through the
 * operator service after every start: a persisted server ignores `--search-attribute` for an existing namespace.
 */
export class PersistedTemporalServer {
  private child: Child | undefined;
  private starts = 0;

  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async start(dir: string): Promise<PersistedTemporalServer> {
    const server = new PersistedTemporalServer(await freePort(), dir);
    await server.start();
    return server;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get namespace(): string {
    return NAMESPACE;
  }

  get dbFile(): string {
    return path.join(this.dir, 'temporal.db');
  }

  async start(): Promise<void> {
    if (this.child?.isRunning() === true) throw new Error('The Temporal server is already running');
    this.starts += 1;
    // prettier-ignore
    const args = [
      'server', 'start-dev', '--db-filename', this.dbFile, '--ip', '127.0.0.1', '--port', String(this.port),
      '--headless', '--namespace', NAMESPACE, '--log-level', 'error',
    ];
    const child = startChild(`temporal server (start ${this.starts})`, requireBinary('cli'), args, {
      logFile: path.join(this.dir, 'temporal-server.log'),
    });
    this.child = child;
    await until(
      `the Temporal server on ${this.address}`,
      async () => {
        if (!child.isRunning())
          throw new GiveUp(`The Temporal server exited; see ${path.join(this.dir, 'temporal-server.log')}`);
        const connection = await Connection.connect({ address: this.address, connectTimeout: 2_000 });
        try {
          await registerSearchAttributes(connection, NAMESPACE);
          return true;
        } finally {
          await connection.close();
        }
      },
      { timeoutMs: READY_TIMEOUT_MS, intervalMs: 500 },
    );
  }

  /** A graceful stop (SIGTERM, SIGKILL after 15 s). */
  async stop(): Promise<void> {
    await this.child?.stop(15_000);
  }
}
