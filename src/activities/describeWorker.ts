import { activityInfo } from '@temporalio/activity';
import type { SettingsFile } from '../config/schema';

export interface WorkerDescription {
  version: string;
  activityTaskQueue: string;
  /** Identifiers only: connection settings hold credentials and never leave the worker. */
  connections: string[];
  resourceTypes: string[];
}

export function createDescribeWorker(deps: { settings: SettingsFile; version: string }) {
  return async function describeWorker(): Promise<WorkerDescription> {
    return {
      version: deps.version,
      activityTaskQueue: activityInfo().taskQueue,
      connections: Object.keys(deps.settings.Connections).sort(),
      resourceTypes: Object.keys(deps.settings.TicketConnector.ResourceTypeMappings).sort(),
    };
  };
}
