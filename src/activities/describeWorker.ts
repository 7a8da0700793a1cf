import { activityInfo } from '@temporalio/activity';

export interface WorkerDescription {
  version: string;
  /** The worker deployment version that ran this activity: which build handles orders. */
  deploymentName?: string;
  buildId?: string;
  activityTaskQueue: string;
  /** Identifiers only: connection settings hold credentials and never leave the worker. */
  connections: string[];
  resourceTypes: string[];
}

export interface DescribeWorkerDependencies {
  readonly version: string;
  readonly build?: { deploymentName: string; buildId: string };
  /** The configured connection identifiers and mapped resource types. */
  readonly connections: readonly string[];
  readonly resourceTypes: readonly string[];
}

export function createDescribeWorker(deps: DescribeWorkerDependencies) {
  return async function describeWorker(): Promise<WorkerDescription> {
    return {
      version: deps.version,
      deploymentName: deps.build?.deploymentName,
      buildId: deps.build?.buildId,
      activityTaskQueue: activityInfo().taskQueue,
      connections: [...deps.connections].sort(),
      resourceTypes: [...deps.resourceTypes].sort(),
    };
  };
}
