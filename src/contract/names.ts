/**
 * Workflow type names and the default task queue: part of the public contract, since Identity Manager's own
 * Temporal client starts workflows by these names.
 */
export const PROVISIONING_WORKFLOW_TYPE = 'provisioningWorkflow';
export const EXPORT_WORKFLOW_TYPE = 'exportWorkflow';
export const SELF_CHECK_WORKFLOW_TYPE = 'selfCheckWorkflow';
/** Sets a ServiceNow user's password; runs on the password task queue only (see below). */
export const PASSWORD_RESET_WORKFLOW_TYPE = 'passwordResetWorkflow';

/**
 * Password resets (and orders that carry a password) run on their own task queue, beside the configured one,
 * whose workers always encrypt what they write: the task queue is what tells a workflow that it may handle a
 * password, since a data converter cannot tell one workflow type from another.
 */
export const PASSWORD_TASK_QUEUE_SUFFIX = '-passwords';

export function passwordTaskQueue(taskQueue: string): string {
  return `${taskQueue}${PASSWORD_TASK_QUEUE_SUFFIX}`;
}

export function isPasswordTaskQueue(taskQueue: string): boolean {
  return taskQueue.endsWith(PASSWORD_TASK_QUEUE_SUFFIX);
}
