/**
 * Builds the Temporal server (every service role) and temporal-sql-tool from the Go module into
 * .temporal/server-<version>/, with the PostgreSQL schemas beside them, and makes sure PostgreSQL's server
 * programs are installed (apt-get as root): what `npm run test:cluster` runs.
 *
 *   npm run setup:temporal-server
 *
 * Quick when both are already there (it only runs both binaries' --version). The first build takes several
 * minutes on a small machine (docs/cluster.md); it needs the machine's Go and the Go module proxy.
 */
import { ServerBuildError, ensureServerBuild } from './cluster/serverBuild';
import { TEMPORAL_SERVER_VERSION } from './cluster/serverBinaries';
import { ensurePostgres, PostgresMissingError } from './cluster/postgresInstall';

const log = (line: string) => console.error(`[setup-temporal-server] ${line}`);

try {
  const startedAt = Date.now();
  const result = ensureServerBuild({ log });
  if (result.built) {
    const seconds = Math.round((Date.now() - startedAt) / 1000);
    log(`built Temporal server ${TEMPORAL_SERVER_VERSION} in ${seconds} s -> ${result.dir}`);
  }
  ensurePostgres(log);
} catch (error) {
  if (error instanceof ServerBuildError || error instanceof PostgresMissingError) {
    log(error.message);
    process.exit(1);
  }
  throw error;
}
