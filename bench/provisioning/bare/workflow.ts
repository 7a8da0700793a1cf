import { proxyActivities } from '@temporalio/workflow';
import type { BareActivities } from './activities';

/** The same timeouts and retries as the connector's activities that must happen (provisioning/activityStubs.ts). */
const { bareStep } = proxyActivities<BareActivities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});

/** The yardstick for the provisioning rate: one activity given the order, then done. */
export async function benchBareWorkflow(input: unknown): Promise<void> {
  await bareStep(input);
}
