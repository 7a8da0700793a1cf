import { chmodSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { Closers } from '../chaos/stack';
import type { Child } from '../chaos/children';
import { registerNamespace, waitUntilServing } from './namespace';
import { startPostgres } from './postgres';
import { findPostgresBinDir, PostgresMissingError } from './postgresInstall';
import { setupDatabases } from './schema';
import { requireServerBuild } from './serverBinaries';
import { allocatePorts, writeServerConfig, type Role } from './serverConfig';
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

    const config = writeServerConfig(path.join(options.dir, 'config'), postgres, await allocatePorts());
    const roles = await startServerProcesses(build, config, logDir);
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
