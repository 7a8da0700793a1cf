import { spawnSync } from 'node:child_process';
import type { RunningPostgres } from './postgres';
import type { ServerBuild } from './serverBinaries';

/** The two databases of a Temporal cluster on SQL: executions (the main store) and visibility (list queries). */
export const DATABASES = { main: 'temporal', visibility: 'temporal_visibility' } as const;

/**
 * Creates both databases and brings their schemas to the build's newest version, as Temporal's docs do it with
 * temporal-sql-tool (plugin postgres12): create-database, setup-schema at 0.0, update-schema from the versioned
 * folder. Every step is idempotent (the postgres12 plugin takes an existing database as created), which the
 * temporal-schema job of docker-compose.yml relies on.
 */
export function setupDatabases(
  build: ServerBuild,
  postgres: RunningPostgres,
  log: (line: string) => void,
): void {
  for (const [store, database] of Object.entries(DATABASES) as [keyof typeof DATABASES, string][]) {
    // prettier-ignore
    const connection = [
      '--plugin', 'postgres12', '--endpoint', postgres.host, '--port', String(postgres.port),
      '--user', postgres.user, '--password', '', '--database', database,
    ];
    const steps = [
      ['create-database'],
      ['setup-schema', '--version', '0.0'],
      ['update-schema', '--schema-dir', build.schema[store]],
    ];
    for (const step of steps) {
      log(`temporal-sql-tool ${step[0]} (${database})`);
      const result = spawnSync(build.sqlTool, [...connection, ...step], {
        encoding: 'utf8',
        timeout: 120_000,
      });
      if (result.status !== 0) {
        const output = `${result.stdout}${result.stderr}`.trim().split('\n').slice(-10).join('\n');
        throw new Error(
          `temporal-sql-tool ${step[0]} on ${database} failed (${result.error?.message ?? `exit ${result.status}`}):\n${output}`,
        );
      }
    }
  }
}
