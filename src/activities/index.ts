import type { AssignmentStore } from '../assignments/store';
import { resolveExportSettings } from '../config/exportSettings';
import type { SettingsFile } from '../config/schema';
import type { ServiceNowClient } from '../servicenow/client';
import { serviceNowClientPool } from '../servicenow/connection';
import { createDescribeWorker } from './describeWorker';
import { createExportActivities } from './export';
import { createProvisioningActivities } from './provisioning';

export interface ActivityDependencies {
  settings: SettingsFile;
  version: string;
  /** The worker's deployment name and build id, reported by describeWorker. */
  build?: { deploymentName: string; buildId: string };
  assignments: AssignmentStore;
  /** ServiceNow client per connection; by default built from the settings' Connections. */
  serviceNow?: (connection: string) => ServiceNowClient;
}

/** Activities are built from their dependencies so that tests can hand in their own. */
export function createActivities(deps: ActivityDependencies) {
  // One pool for every activity: each connection keeps one client, and with it one OAuth token.
  const serviceNow = deps.serviceNow ?? serviceNowClientPool(deps.settings);
  return {
    describeWorker: createDescribeWorker(deps),
    ...createProvisioningActivities({ settings: deps.settings, serviceNow, assignments: deps.assignments }),
    ...createExportActivities({
      exportSettings: (connection) => resolveExportSettings(deps.settings, connection),
      serviceNow,
    }),
  };
}

export type ConnectorActivities = ReturnType<typeof createActivities>;
