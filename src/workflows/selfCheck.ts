import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { ConnectorActivities } from '../activities';
import type { WorkerDescription } from '../activities/describeWorker';

const { describeWorker } = proxyActivities<ConnectorActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 3 },
});

export interface SelfCheckResult {
  workflowId: string;
  taskQueue: string;
  worker: WorkerDescription;
}

/**
 * Proves the whole path works: the server accepted a start, a worker polled the task queue, ran the
 * workflow and an activity. `npm start` runs it once the stack is up; operators can run it any time.
 */
export async function selfCheckWorkflow(): Promise<SelfCheckResult> {
  const info = workflowInfo();
  return { workflowId: info.workflowId, taskQueue: info.taskQueue, worker: await describeWorker() };
}
