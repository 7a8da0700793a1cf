import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { stringify } from 'yaml';
import { freePort } from '../chaos/temporalServer';
import type { RunningPostgres } from './postgres';
import { DATABASES } from './schema';

/** The server roles, each started as its own process. Frontend first: the others find it through membership. */
export const ROLES = ['frontend', 'history', 'matching', 'worker'] as const;
export type Role = (typeof ROLES)[number];

/** The `--env` the config file is named after: `<configDir>/<env>.yaml`. */
export const CONFIG_ENV = 'cluster';

/**
 * Small on purpose: every shard is owned by one history process, and a handful is enough for a test while still
 * spreading workflows over several shards.
 */
const HISTORY_SHARDS = 4;

/** The compose topology's dynamic config: the same server behaviour in the test and in docker-compose.yml. */
export const DYNAMIC_CONFIG_FILE = path.resolve(
  __dirname,
  '..',
  '..',
  'deploy',
  'temporal',
  'dynamicconfig',
  'development-sql.yaml',
);

export interface RolePorts {
  readonly grpc: number;
  /** Ringpop: the roles find each other through the cluster_membership table and talk on these ports. */
  readonly membership: number;
}

export interface ServerConfig {
  readonly configDir: string;
  readonly ports: Readonly<Record<Role, RolePorts>>;
  /** host:port of the frontend, what clients and workers connect to. */
  readonly frontendAddress: string;
}

/**
 * Membership ports are stored in a PostgreSQL smallint (cluster_membership.rpc_port), so they must stay below
 * 32768, where Linux never hands out ephemeral ports: they are drawn at random there and tried.
 */
const MEMBERSHIP_PORTS = { from: 20_000, to: 32_000 } as const;
const PORT_TRIES = 50;

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function freeMembershipPort(taken: ReadonlySet<number>): Promise<number> {
  for (let attempt = 0; attempt < PORT_TRIES; attempt += 1) {
    const port =
      MEMBERSHIP_PORTS.from + Math.floor(Math.random() * (MEMBERSHIP_PORTS.to - MEMBERSHIP_PORTS.from));
    if (!taken.has(port) && (await canListen(port))) return port;
  }
  throw new Error(
    `No free loopback port between ${MEMBERSHIP_PORTS.from} and ${MEMBERSHIP_PORTS.to} after ${PORT_TRIES} tries`,
  );
}

/** Free loopback ports for every role. */
export async function allocatePorts(): Promise<Record<Role, RolePorts>> {
  const ports = {} as Record<Role, RolePorts>;
  const membership = new Set<number>();
  for (const role of ROLES) {
    const port = await freeMembershipPort(membership);
    membership.add(port);
    ports[role] = { grpc: await freePort(), membership: port };
  }
  return ports;
}

/**
 * Writes `<configDir>/cluster.yaml`: PostgreSQL (plugin postgres12) for both stores, every role on its own
 * loopback ports, no metrics or pprof listeners (they would collide between the processes), no archival.
 */
export function writeServerConfig(
  configDir: string,
  postgres: RunningPostgres,
  ports: Readonly<Record<Role, RolePorts>>,
): ServerConfig {
  const datastore = (databaseName: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName,
      connectAddr: `${postgres.host}:${postgres.port}`,
      connectProtocol: 'tcp',
      user: postgres.user,
      password: '',
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const frontendAddress = `127.0.0.1:${ports.frontend.grpc}`;
  const config = {
    log: { stdout: true, level: 'info' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: HISTORY_SHARDS,
      datastores: {
        'postgres-default': datastore(DATABASES.main, 20),
        'postgres-visibility': datastore(DATABASES.visibility, 5),
      },
    },
    global: { membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' } },
    services: Object.fromEntries(
      ROLES.map((role) => [
        role,
        {
          rpc: {
            grpcPort: ports[role].grpc,
            membershipPort: ports[role].membership,
            bindOnIP: '127.0.0.1',
          },
        },
      ]),
    ),
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: {
          enabled: true,
          initialFailoverVersion: 1,
          rpcName: 'frontend',
          rpcAddress: frontendAddress,
        },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } },
    namespaceDefaults: { archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } } },
    dynamicConfigClient: { filepath: DYNAMIC_CONFIG_FILE, pollInterval: '10s' },
  };
  mkdirSync(configDir, { recursive: true });
  writeFileSync(
    path.join(configDir, `${CONFIG_ENV}.yaml`),
    `# Generated by scripts/cluster/serverConfig.ts\n${stringify(config)}`,
  );
  return { configDir, ports, frontendAddress };
}
