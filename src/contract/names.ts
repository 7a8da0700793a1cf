import { MAX_ORDER_ID_LENGTH } from './limits';

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

/** The ticket sweep of a connection runs once per connection, under this workflow id. */
export const TICKET_SWEEP_WORKFLOW_TYPE = 'ticketSweepWorkflow';

export function ticketSweepWorkflowId(connection: string): string {
  return `ticket-sweep:${connection}`;
}

/** The last parts of every order id (see orderWorkflowId in src/client/provisioning.ts): change and digest. */
const ORDER_ID_TAIL = /:(?:added|modified|deleted):[0-9a-f]{12}$/;
/** Long order ids keep 40 characters of the connection and a digest of the assignment. */
const LONG_ORDER_ID_MIDDLE = /^:[0-9a-f]{16}$/;
const LONG_FORM_CONNECTION_LENGTH = 40;

/**
 * Whether `id` is shaped like the id of an order of `connection`: a ticket's `correlation_id` is free text a
 * fulfiller can edit, so only such ids are ever used as workflow ids to signal.
 */
export function isOrderIdOf(connection: string, id: string): boolean {
  if (id.length > MAX_ORDER_ID_LENGTH) return false;
  const tail = ORDER_ID_TAIL.exec(id);
  if (tail === null) return false;
  const head = id.slice(0, tail.index);
  if (head.startsWith(`${connection}:`) && head.length > connection.length + 1) return true;
  const cut = connection.slice(0, LONG_FORM_CONNECTION_LENGTH);
  return head.startsWith(cut) && LONG_ORDER_ID_MIDDLE.test(head.slice(cut.length));
}
