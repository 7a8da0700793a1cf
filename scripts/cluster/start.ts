/**
 * Starts the multi-process Temporal cluster of the cluster test by hand, until Ctrl-C:
 *
 *   npm run setup:temporal-server && node --import tsx scripts/cluster/start.ts [--namespace default]
 *
 * PostgreSQL in a new temporary folder, the four server roles as separate processes, the namespace and the
 * connector's search attributes; prints the frontend address for `npm run worker` (TEMPORAL_ADDRESS) and the
 * CLI. Everything is stopped and the folder removed on Ctrl-C.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { program } from 'commander';
import { startCluster } from './cluster';

program
  .name('node --import tsx scripts/cluster/start.ts')
  .description('run a Temporal cluster on PostgreSQL, one process per role, on loopback')
  .option('--namespace <name>', 'namespace to register', 'default')
  .action(async (options: { namespace: string }) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'snow-ticket-cluster-'));
    try {
      const cluster = await startCluster({
        dir,
        namespace: options.namespace,
        log: (line) => console.log(line),
      });
      console.log(
        `\nTemporal cluster ready: TEMPORAL_ADDRESS=${cluster.address} (namespace ${cluster.namespace})`,
      );
      console.log(`Logs in ${cluster.logDir}. Press Ctrl-C to stop.`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await cluster.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

program.parseAsync().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
