/**
 * The connector's worker: polls the task queue and runs provisioning workflows and their activities.
 * Configuration comes from appsettings.agent.json (see README) and TEMPORAL_* environment variables.
 */
import { loadConfig, ConfigError } from './config/load';
import type { SettingsFile } from './config/schema';
import { resolveTemporalTarget, type TemporalTarget } from './config/temporalConnection';
import { createAssignmentStore } from './assignments/createStore';
import { connectWorker, createConnectorWorker } from './platform/connectorWorker';
import { startHealthServer } from './platform/healthServer';

export interface RunningWorker {
  /** Resolves when the worker has stopped (after shutdown() or a fatal error). */
  done: Promise<void>;
  shutdown(): Promise<void>;
}

export async function startWorker(
  settings: SettingsFile,
  target: TemporalTarget,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunningWorker> {
  const connection = await connectWorker(target);
  const assignments = createAssignmentStore(settings);
  const worker = await createConnectorWorker({
    connection,
    namespace: target.namespace,
    taskQueue: target.taskQueue,
    settings,
    assignments,
  });
  const healthPort = env.WORKER_HEALTH_PORT ?? settings.TicketConnector.Worker.HealthPort;
  const health = healthPort === undefined ? undefined : await startHealthServer(worker, Number(healthPort));
  const done = worker.run().finally(async () => {
    health?.close();
    await assignments.close();
    await connection.close();
  });
  return {
    done,
    async shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const target = resolveTemporalTarget(config.settings);
  const running = await startWorker(config.settings, target);
  console.log(
    `Worker polling task queue "${target.taskQueue}" in namespace "${target.namespace}" at ${target.address} ` +
      `(config: ${config.file ?? 'embedded defaults'})`,
  );
  await running.done;
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof ConfigError ? error.message : error);
    process.exit(error instanceof ConfigError ? 2 : 1);
  });
}
