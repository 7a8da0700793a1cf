import type { AssignmentStore } from '../assignments/store';
import type { SettingsFile } from '../config/schema';
import type { ServiceNowClient } from '../servicenow/client';
import { serviceNowClientPool } from '../servicenow/connection';
import { createDescribeWorker } from './describeWorker';
import { createProvisioningActivities } from './provisioning';

export interface ActivityDependencies {
  settings: SettingsFile;
  version: string;
  assignments: AssignmentStore;
  /** ServiceNow client per connection; by default built from the settings' Connections. */
  serviceNow?: (connection: string) => ServiceNowClient;
}

/** Activities are built from their dependencies so that tests can hand in their own. */
export function createActivities(deps: ActivityDependencies) {
  return {
    describeWorker: createDescribeWorker(deps),
    ...createProvisioningActivities({
      settings: deps.settings,
      serviceNow: deps.serviceNow ?? serviceNowClientPool(deps.settings),
      assignments: deps.assignments,
    }),
  };
}

export type ConnectorActivities = ReturnType<typeof createActivities>;
