import type { SettingsFile } from '../config/schema';
import { createDescribeWorker } from './describeWorker';

export interface ActivityDependencies {
  settings: SettingsFile;
  version: string;
}

/** Activities are built from their dependencies so that tests can hand in their own. */
export function createActivities(deps: ActivityDependencies) {
  return {
    describeWorker: createDescribeWorker(deps),
  };
}

export type ConnectorActivities = ReturnType<typeof createActivities>;
