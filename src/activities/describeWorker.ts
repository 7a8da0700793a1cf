import { activityInfo } from '@temporalio/activity';
import type { SettingsFile } from '../config/schema';

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

export function createDescribeWorker(deps: {
  settings: SettingsFile;
  version: string;
  build?: { deploymentName: string; buildId: string };
}) {
  return async function describeWorker(): Promise<WorkerDescription> {
    return {
      version: deps.version,
      deploymentName: deps.build?.deploymentName,
      buildId: deps.build?.buildId,
      activityTaskQueue: activityInfo().taskQueue,
      connections: Object.keys(deps.settings.Connections).sort(),
      resourceTypes: Object.keys(deps.settings.TicketConnector.ResourceTypeMappings).sort(),
    };
  };
}
