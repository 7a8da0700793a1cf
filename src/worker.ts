/**
 * The connector's worker: polls the task queue and runs provisioning workflows and their activities.
 * Configuration comes from appsettings.agent.json (see README) and TEMPORAL_* environment variables.
 */
import { loadSettings, ConfigError } from './config/load';
import type { SettingsFile } from './config/schema';
import { resolveTemporalTarget, type TemporalTarget } from './config/temporalConnection';
import type { Worker } from '@temporalio/worker';
import { passwordTaskQueue } from './contract/names';
import type { LiveSettings } from './credentials/refresh';
import { createAssignmentStore } from './platform/assignmentStore';
import { canSealPasswords } from './platform/encryption';
import {
  connectWorker,
  createConnectorWorker,
  resolveWorkerDeployment,
  type WorkerDeployment,
} from './platform/connectorWorker';
import { healthEndpoint, startHealthServer } from './platform/healthServer';
import type { ConnectorMetrics } from './platform/metrics';
import { installMetrics, metricsUrl } from './platform/prometheusMetrics';
import { startClosureServices } from './platform/closureServices';
import type { TicketSweeps } from './client/sweeps';

export interface RunningWorker {
  /** The deployment name and build id this worker reports (and is routed by, with versioning). */
  deployment: WorkerDeployment;
  /** Whether a second worker runs password resets on the password task queue (an encryption key is active). */
  passwordResets: boolean;
  /** The push receiver's endpoint, when this process runs it (TicketConnector.Push.Enabled). */
  pushUrl: string | undefined;
  /** The sweep workflows running (TicketConnector.Sweep). */
  sweeps: TicketSweeps;
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
  /** Where the connector's metrics go (installMetrics, before anything connects); none by default. */
  metrics?: ConnectorMetrics,
): Promise<RunningWorker> {
  // Before connecting: an unusable build id or health endpoint is a configuration error (exit code 2), not a crash.
  const deployment = resolveWorkerDeployment(settings, env);
  const endpoint = healthEndpoint(settings.TicketConnector.Worker, env);
  const connection = await connectWorker(target);
  const assignments = createAssignmentStore(settings, live);
  const workerOn = (taskQueue: string) =>
    createConnectorWorker({
      connection,
      namespace: target.namespace,
      taskQueue,
      settings,
      assignments,
      deployment,
      ...(live === undefined ? {} : { live }),
      ...(metrics === undefined ? {} : { metrics }),
    });
  // Password resets get their own, always encrypting worker; without an active key there are none to run.
  const workers = [await workerOn(target.taskQueue)];
  if (canSealPasswords(settings.TicketConnector.Encryption)) {
    workers.push(await workerOn(passwordTaskQueue(target.taskQueue)));
  }
  const closure = await startClosureServices(settings, target, metrics);
  const health =
    endpoint === undefined
      ? undefined
      : await startHealthServer(combinedState(workers), endpoint.port, endpoint.host);
  const stopAll = () => {
    for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
  };
  // One worker failing stops the others, so that the process exits and its supervisor restarts it whole.
  const runs = workers.map((worker) =>
    worker.run().catch((error: unknown) => {
      stopAll();
      throw error;
    }),
  );
  const done = Promise.allSettled(runs).then(async (results) => {
    health?.close();
    await closure.close();
    await assignments.close();
    await connection.close();
    const failure = results.find((result) => result.status === 'rejected');
    if (failure !== undefined) throw failure.reason;
  });
  return {
    deployment,
    passwordResets: workers.length > 1,
    pushUrl: closure.pushUrl,
    sweeps: closure.sweeps,
    done,
    async shutdown() {
      stopAll();
      await done;
    },
  };
}

/** RUNNING only while every worker of the process is. */
function combinedState(workers: readonly Worker[]): Pick<Worker, 'getState'> {
  return {
    getState: () =>
      workers.map((worker) => worker.getState()).find((state) => state !== 'RUNNING') ?? 'RUNNING',
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

function describeSweeps(sweeps: TicketSweeps): string {
  const names = sweeps.running.map((sweep) => sweep.workflowId).join(', ');
  if (sweeps.enabled)
    return `Ticket sweeps running: ${names === '' ? 'none (no connection has ticket mappings)' : names}`;
  return `Ticket sweeps off (TicketConnector.Sweep.Enabled)${names === '' ? '' : `; still running until their next run: ${names}`}`;
}

async function main(): Promise<void> {
  const config = await loadSettings();
  const target = resolveTemporalTarget(config.settings);
  // The SDK's runtime is installed once per process, before anything connects.
  const metrics = installMetrics(config.settings.TicketConnector.Metrics);
  const running = await startWorker(config.settings, target, process.env, config.live, metrics);
  console.log(
    `Worker polling task queue "${target.taskQueue}" in namespace "${target.namespace}" at ${target.address} ` +
      `(config: ${config.file ?? 'embedded defaults'})`,
  );
  console.log(describeDeployment(running.deployment, target));
  console.log(
    running.passwordResets
      ? `Password resets on task queue "${passwordTaskQueue(target.taskQueue)}" (payloads encrypted)`
      : 'Password resets off: no payload key is active (TicketConnector.Encryption.ActiveKey)',
  );
  const metricsAt = metricsUrl(config.settings.TicketConnector.Metrics);
  if (metricsAt !== undefined) console.log(`Metrics on ${metricsAt}`);
  if (running.pushUrl !== undefined) console.log(`Push receiver on ${running.pushUrl}`);
  console.log(describeSweeps(running.sweeps));
  await running.done;
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof ConfigError ? error.message : error);
    process.exit(error instanceof ConfigError ? 2 : 1);
  });
}
