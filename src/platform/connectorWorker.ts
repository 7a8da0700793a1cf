import { NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { AssignmentStore } from '../assignments/store';
import type { SettingsFile } from '../config/schema';
import type { TemporalTarget } from '../config/temporalConnection';
import { version } from '../version';

export interface ConnectorWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  settings: SettingsFile;
  /** Where assignment states go; the caller opens and closes it. */
  assignments: AssignmentStore;
  /** Pre-built workflow code (tests bundle once per process); by default the worker bundles at start. */
  workflowBundle?: WorkflowBundle;
}

export async function createConnectorWorker(options: ConnectorWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: createActivities({ settings: options.settings, version, assignments: options.assignments }),
    // Export activities heartbeat every page; the CLI's progress bars read the server's copy, so it must be fresh.
    maxHeartbeatThrottleInterval: '2 seconds',
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: require.resolve('../workflows') }),
  });
}

export async function connectWorker(target: TemporalTarget): Promise<NativeConnection> {
  return NativeConnection.connect(target.connectionOptions);
}
