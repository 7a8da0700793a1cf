import { createDescribeWorker, type DescribeWorkerDependencies } from './describeWorker';
import { createExportActivities, type ExportActivityDependencies } from './export';
import { createPasswordResetActivities, type PasswordResetActivityDependencies } from './passwordReset';
import { createProvisioningActivities, type ProvisioningActivityDependencies } from './provisioning';
import { createSweepActivities, type SweepActivityDependencies } from './sweep';

/** What the activities are built from; src/platform/adapters.ts builds it from the settings. */
export interface ActivityDependencies {
  readonly worker: DescribeWorkerDependencies;
  readonly provisioning: ProvisioningActivityDependencies;
  readonly export: ExportActivityDependencies;
  readonly passwords: PasswordResetActivityDependencies;
  readonly sweep: SweepActivityDependencies;
}

/** Activities are built from their dependencies so that tests can hand in their own. */
export function createActivities(deps: ActivityDependencies) {
  return {
    describeWorker: createDescribeWorker(deps.worker),
    ...createProvisioningActivities(deps.provisioning),
    ...createExportActivities(deps.export),
    ...createPasswordResetActivities(deps.passwords),
    ...createSweepActivities(deps.sweep),
  };
}

export type ConnectorActivities = ReturnType<typeof createActivities>;
