import { NativeConnection, Worker, type WorkerOptions, type WorkflowBundle } from '@temporalio/worker';
import type { AssignmentStore } from '../assignments/store';
import { ConfigError } from '../config/load';
import type { SettingsFile } from '../config/schema';
import { workerBuildIdSchema } from '../config/workerIdentity';
import type { TemporalTarget } from '../config/temporalConnection';
import { BUILD_ID_ENV, defaultBuildIdentity, version, type BuildIdentity } from '../version';
import { isPasswordTaskQueue } from '../contract/names';
import { connectorActivities } from './adapters';
import { ordersDataConverter, passwordsDataConverter } from './encryption';
import type { LiveSettings } from '../credentials/refresh';
import type { ConnectorMetrics } from './metrics';

/** Which build a worker is, and whether the server routes tasks by it. See README, "Rolling out a new worker". */
export interface WorkerDeployment {
  deploymentName: string;
  buildId: string;
  /** Where the build id came from: the settings, SNOW_CONNECTOR_BUILD_ID, or the package version and commit. */
  buildIdSource: string;
  /** Worker versioning: tasks reach this worker only once its version is current (or ramping) on the server. */
  versioning: boolean;
}

const DEPLOYMENT_SETTING = 'TicketConnector.Temporal.Deployment';

/**
 * The worker's deployment name and build id from the settings, SNOW_CONNECTOR_BUILD_ID, or the checkout.
 * Throws ConfigError when the build id is unusable, or when Versioning is on and the build id cannot tell this
 * build from others of the same package version (the server would route both builds' tasks alike).
 */
export function resolveWorkerDeployment(
  settings: SettingsFile,
  env: NodeJS.ProcessEnv = process.env,
  /** The build id used when the settings give none; tests pass one to stand for a build without git. */
  fallback?: BuildIdentity,
): WorkerDeployment {
  const configured = settings.TicketConnector.Temporal.Deployment;
  const base = { deploymentName: configured.Name, versioning: configured.Versioning };
  if (configured.BuildId !== undefined) {
    return { ...base, buildId: configured.BuildId, buildIdSource: `${DEPLOYMENT_SETTING}.BuildId` };
  }
  const identity = fallback ?? defaultBuildIdentity(env);
  if (identity.source === BUILD_ID_ENV) {
    const checked = workerBuildIdSchema.safeParse(identity.buildId);
    if (!checked.success) {
      throw new ConfigError(
        'the environment',
        checked.error.issues.map((issue) => `${BUILD_ID_ENV}: ${issue.message}`),
      );
    }
  }
  if (configured.Versioning && !identity.identifiesBuild) {
    throw new ConfigError('the worker deployment settings', [
      `${DEPLOYMENT_SETTING}.BuildId: is missing: with Versioning true every build needs its own build id, and ` +
        `"${identity.buildId}" (the package version; no git commit is known) would be the same for every build ` +
        `of this version. Set ${DEPLOYMENT_SETTING}.BuildId or ${BUILD_ID_ENV} (e.g. to the image tag or commit)`,
    ]);
  }
  return { ...base, buildId: identity.buildId, buildIdSource: identity.source };
}

/**
 * The SDK's deployment options. Without versioning the worker still sends its deployment name and build id:
 * the server records them on every workflow task it completes (Web UI, `temporal workflow show`) and lists
 * them in `temporal worker list`, with no routing by version.
 *
 * With versioning, every workflow type defaults to AUTO_UPGRADE: a provisioning order stays open for weeks,
 * and pinned runs would keep workers of every old build alive until the last order of that build closes.
 * Auto-upgraded runs move to the current build at their next workflow task, which is safe because workflow
 * changes go behind `patched()` and the recorded histories (test/histories) replay in `npm test`. Exports
 * (minutes to hours) and the self-check use the same default: the compose setup replaces workers in place, so
 * a pinned export would have no worker of its build left after a rollout.
 */
export function workerDeploymentOptions(
  deployment: WorkerDeployment,
): NonNullable<WorkerOptions['workerDeploymentOptions']> {
  const workerVersion = { deploymentName: deployment.deploymentName, buildId: deployment.buildId };
  return deployment.versioning
    ? { version: workerVersion, useWorkerVersioning: true, defaultVersioningBehavior: 'AUTO_UPGRADE' }
    : { version: workerVersion, useWorkerVersioning: false };
}

export interface ConnectorWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  settings: SettingsFile;
  /** Where assignment states go; the caller opens and closes it. */
  assignments: AssignmentStore;
  /**
   * Pre-built workflow code (tests bundle once per process), built with the failureConverterPath of
   * workerDataConverter(taskQueue, settings); by default the worker bundles at start.
   */
  workflowBundle?: WorkflowBundle;
  /** Default: resolveWorkerDeployment(settings) with the process environment. */
  deployment?: WorkerDeployment;
  /** The credential stores behind `settings`, read again after ServiceNow refuses a secret. */
  live?: LiveSettings;
  /** Where the connector's own metrics go (installMetrics in prometheusMetrics.ts); none by default. */
  metrics?: ConnectorMetrics;
}

export async function createConnectorWorker(options: ConnectorWorkerOptions): Promise<Worker> {
  const deployment = options.deployment ?? resolveWorkerDeployment(options.settings);
  const { Budget, Worker: workerSettings } = options.settings.TicketConnector;
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: connectorActivities({
      settings: options.settings,
      version,
      build: { deploymentName: deployment.deploymentName, buildId: deployment.buildId },
      assignments: options.assignments,
      ...(options.live === undefined ? {} : { live: options.live }),
      ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
    }),
    dataConverter: workerDataConverter(options.taskQueue, options.settings),
    // Export activities heartbeat every page; the CLI's progress bars read the server's copy, so it must be fresh.
    maxHeartbeatThrottleInterval: '2 seconds',
    // Evicted workflows are rebuilt by replay when they wake: a bounded cache costs CPU, never correctness.
    maxCachedWorkflows: workerSettings.MaxCachedWorkflows,
    // Enforced by the server for the whole task queue, whatever the number of workers.
    ...(Budget.TaskQueueActivitiesPerSecond === undefined
      ? {}
      : { maxTaskQueueActivitiesPerSecond: Budget.TaskQueueActivitiesPerSecond }),
    workerDeploymentOptions: workerDeploymentOptions(deployment),
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: require.resolve('../workflows') }),
  });
}

/**
 * A password task queue's worker seals everything it writes; the others follow `EncryptOrders`. Both open
 * anything sealed with a configured key. A pre-built workflow bundle must carry its failureConverterPath.
 */
export function workerDataConverter(taskQueue: string, settings: SettingsFile) {
  const encryption = settings.TicketConnector.Encryption;
  return isPasswordTaskQueue(taskQueue)
    ? passwordsDataConverter(encryption)
    : ordersDataConverter(encryption);
}

export async function connectWorker(target: TemporalTarget): Promise<NativeConnection> {
  return NativeConnection.connect(target.connectionOptions);
}
