/**
 * The connector's worker: polls the task queue and runs provisioning workflows and their activities.
 * Configuration comes from appsettings.agent.json (see README) and TEMPORAL_* environment variables.
 */
import { loadSettings, ConfigError } from './config/load';
import type { SettingsFile } from './config/schema';
import { resolveTemporalTarget, type TemporalTarget } from './config/temporalConnection';
import type { LiveSettings } from './credentials/refresh';
import { createAssignmentStore } from './platform/assignmentStore';
import {
  connectWorker,
  createConnectorWorker,
  resolveWorkerDeployment,
  type WorkerDeployment,
} from './platform/connectorWorker';
import { healthEndpoint, startHealthServer } from './platform/healthServer';

export interface RunningWorker {
  /** The deployment name and build id this worker reports (and is routed by, with versioning). */
  deployment: WorkerDeployment;
  /** Resolves when the worker has stopped (after shutdown() or a fatal error). */
  done: Promise<void>;
  shutdown(): Promise<void>;
}

export async function startWorker(
  settings: SettingsFile,
  target: TemporalTarget,
  env: NodeJS.ProcessEnv = process.env,
  /** The credential stores behind `settings`, read again after ServiceNow refuses a secret. */
  live?: LiveSettings,
): Promise<RunningWorker> {
  // Before connecting: an unusable build id or health endpoint is a configuration error (exit code 2), not a crash.
  const deployment = resolveWorkerDeployment(settings, env);
  const endpoint = healthEndpoint(settings.TicketConnector.Worker, env);
  const connection = await connectWorker(target);
  const assignments = createAssignmentStore(settings);
  const worker = await createConnectorWorker({
    connection,
    namespace: target.namespace,
    taskQueue: target.taskQueue,
    settings,
    assignments,
    deployment,
    ...(live === undefined ? {} : { live }),
  });
  const health =
    endpoint === undefined ? undefined : await startHealthServer(worker, endpoint.port, endpoint.host);
  const done = worker.run().finally(async () => {
    health?.close();
    await assignments.close();
    await connection.close();
  });
  return {
    deployment,
    done,
    async shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}

/** One start-up line saying which build this is and, with versioning, what makes it receive tasks. */
export function describeDeployment(deployment: WorkerDeployment, target: TemporalTarget): string {
  const build =
    `Worker build "${deployment.buildId}" (from ${deployment.buildIdSource}) ` +
    `of worker deployment "${deployment.deploymentName}"`;
  if (!deployment.versioning) {
    return `${build}; worker versioning off: this worker takes tasks as soon as it polls`;
  }
  return (
    `${build}; worker versioning on (auto-upgrade): this worker takes tasks only while its version is current ` +
    `or ramping. Make it current with: temporal worker deployment set-current-version ` +
    `--deployment-name ${deployment.deploymentName} --build-id ${deployment.buildId} --namespace ${target.namespace}`
  );
}

async function main(): Promise<void> {
  const config = await loadSettings();
  const target = resolveTemporalTarget(config.settings);
  const running = await startWorker(config.settings, target, process.env, config.live);
  console.log(
    `Worker polling task queue "${target.taskQueue}" in namespace "${target.namespace}" at ${target.address} ` +
      `(config: ${config.file ?? 'embedded defaults'})`,
  );
  console.log(describeDeployment(running.deployment, target));
  await running.done;
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof ConfigError ? error.message : error);
    process.exit(error instanceof ConfigError ? 2 : 1);
  });
}
