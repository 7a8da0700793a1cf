import type { Client } from '@temporalio/client';
import { SELF_CHECK_WORKFLOW_TYPE } from '../contract/names';
import type { selfCheckWorkflow } from '../workflows';

/** Runs the self-check workflow (a workflow and an activity) on the task queue and returns its result. */
export function runSelfCheck(
  client: Client,
  options: { readonly taskQueue: string; readonly timeoutSeconds: number },
): Promise<Awaited<ReturnType<typeof selfCheckWorkflow>>> {
  return client.workflow.execute<typeof selfCheckWorkflow>(SELF_CHECK_WORKFLOW_TYPE, {
    taskQueue: options.taskQueue,
    workflowId: `self-check-${Date.now()}`,
    workflowExecutionTimeout: `${options.timeoutSeconds}s`,
  });
}
