import { chmodSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { Closers } from '../chaos/stack';
import type { Child } from '../chaos/children';
import { registerNamespace, waitUntilServing } from './namespace';
import { startPostgres, type RunningPostgres } from './postgres';
import { findPostgresBinDir, PostgresMissingError } from './postgresInstall';
import { setupDatabases } from './schema';
import { requireServerBuild, type ServerBuild } from './serverBinaries';
import { allocatePorts, writeServerConfig, type Role, type ServerConfig } from './serverConfig';
import { startServerProcesses, stopServerProcesses } from './serverProcesses';

export interface Cluster {
  /** host:port of the frontend. */
  readonly address: string;
  readonly namespace: string;
  readonly postgres: { readonly host: string; readonly port: number };
  /** The four server processes, by role. */
  readonly roles: ReadonlyMap<Role, Child>;
  readonly logDir: string;
  /** Stops the server roles, then PostgreSQL; safe to call twice. */
  stop(): Promise<void>;
}

/**
 * A Temporal cluster on PostgreSQL made of separate processes, all on loopback: a new PostgreSQL cluster in
 * `dir`, Temporal's two databases migrated with temporal-sql-tool, one process per server role, then the namespace
 * and the connector's search attributes. Needs `npm run setup:temporal-server` first. Whatever it started is
 * stopped again if a later step fails.
 */
export async function startCluster(options: {
  readonly dir: string;
  readonly namespace?: string;
  readonly log?: (line: string) => void;
}): Promise<Cluster> {
  const log = options.log ?? (() => undefined);
  const namespace = options.namespace ?? 'default';
  const build = requireServerBuild();
  const binDir = findPostgresBinDir();
  if (binDir === undefined)
    throw new PostgresMissingError('run `npm run setup:temporal-server`, which installs them');
  const logDir = path.join(options.dir, 'logs');
  mkdirSync(logDir, { recursive: true });
  // The postgres OS user must reach its data folder inside.
  chmodSync(options.dir, 0o755);

  const closers = new Closers();
  try {
    const postgres = await startPostgres(binDir, options.dir, logDir);
    closers.add(() => postgres.stop());
    log(`PostgreSQL on ${postgres.host}:${postgres.port}`);
    setupDatabases(build, postgres, log);

    const { config, roles } = await startRoles(build, options.dir, postgres, logDir, log);
    closers.add(() => stopServerProcesses(roles));
    log(
      `Temporal roles: ${[...roles].map(([role, child]) => `${role} (pid ${child.pid}, port ${config.ports[role].grpc})`).join(', ')}`,
    );

    const connection = await Connection.connect({ address: config.frontendAddress });
    try {
      await registerNamespace(connection, namespace);
      await waitUntilServing(connection, namespace);
    } finally {
      await connection.close();
    }
    log(`namespace ${namespace} ready on ${config.frontendAddress}`);
    return {
      address: config.frontendAddress,
      namespace,
      postgres: { host: postgres.host, port: postgres.port },
      roles,
      logDir,
      stop: () => closers.closeAll(),
    };
  } catch (error) {
    await closers.closeAll();
    throw error;
  }
}

const ROLE_START_ATTEMPTS = 2;

/**
 * The roles on ports drawn at random below 32768, where another process may take one between the draw and the
 * bind: a role that exits while starting is tried once more, all roles on new ports.
 */
async function startRoles(
  build: ServerBuild,
  dir: string,
  postgres: RunningPostgres,
  logDir: string,
  log: (line: string) => void,
): Promise<{ config: ServerConfig; roles: Awaited<ReturnType<typeof startServerProcesses>> }> {
  for (let attempt = 1; ; attempt++) {
    const config = writeServerConfig(path.join(dir, 'config'), postgres, await allocatePorts());
    try {
      return { config, roles: await startServerProcesses(build, config, logDir) };
    } catch (error) {
      if (attempt >= ROLE_START_ATTEMPTS) throw error;
      log(
        `Temporal roles did not start (${error instanceof Error ? error.message.split('\n')[0] : String(error)}); trying again on new ports`,
      );
    }
  }
}
