import { createHash } from 'node:crypto';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateStage,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { MAX_ORDER_ID_LENGTH } from '../contract/limits';
import { PROVISIONING_WORKFLOW_TYPE } from '../contract/names';
import { parseProvisioningInput, type ProvisioningInput } from '../contract/order';
import type { provisioningWorkflow } from '../workflows';
import { cancelUpdate, statusQuery } from '../contract/messages';
import { visibilityLiteral } from './visibility';

/** JSON with object keys sorted at every level, so that any client can compute the same digest. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, field]) => field !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, field]) => `${JSON.stringify(key)}:${canonicalJson(field)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function digest(value: unknown, length: number): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, length);
}

/**
 * The order's workflow id: the same order always gets the same id, so a repeated order finds the first one's
 * run (and ticket) instead of opening another. The connection, assignment and change are readable in it; a
 * digest of the change's content tells two different changes of one assignment apart.
 */
export function orderWorkflowId(input: ProvisioningInput): string {
  const { connection, order } = input;
  const change = order.ChangeType.toLowerCase();
  const content = digest(
    [
      connection,
      order.AssignedResourceTypeId,
      order.ChangeType,
      order.Changes ?? null,
      order.WorkflowInstanceId ?? null,
    ],
    12,
  );
  const readable = `${connection}:${order.AssignedResourceTypeId}:${change}:${content}`;
  if (readable.length <= MAX_ORDER_ID_LENGTH) return readable;
  return `${connection.slice(0, 40)}:${digest(order.AssignedResourceTypeId, 16)}:${change}:${content}`;
}

export interface StartedOrder {
  readonly workflowId: string;
  /** False when the order had been started before: the existing run was attached to, nothing new was opened. */
  readonly started: boolean;
  /** Pending orders of the same assignment that this Deleted order revoked. */
  readonly superseded: readonly string[];
}

export interface StartOptions {
  readonly taskQueue: string;
  /** Who is starting it, for the audit trail of revocations (default "Identity Manager"). */
  readonly requestedBy?: string;
}

/**
 * Starts one order (validated first, with field-level messages). Starting the same order twice attaches to the
 * first run: conflict policy FAIL tells us that it existed, reuse policy ALLOW_DUPLICATE_FAILED_ONLY lets an
 * order whose run failed (say on a template error, since fixed) start again under the same id, which finds any
 * ticket the failed run had opened.
 */
export async function startOrder(
  client: Client,
  value: unknown,
  options: StartOptions,
): Promise<StartedOrder> {
  const input = parseProvisioningInput(value);
  const workflowId = orderWorkflowId(input);
  const superseded =
    input.order.ChangeType === 'Deleted'
      ? await revokePendingGrants(client, input, workflowId, options.requestedBy ?? 'Identity Manager')
      : [];
  try {
    await client.workflow.start<typeof provisioningWorkflow>(PROVISIONING_WORKFLOW_TYPE, {
      taskQueue: options.taskQueue,
      workflowId,
      args: [input],
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      staticSummary: `${input.order.ChangeType} ${input.order.ResourceType.Identifier} (assignment ${input.order.AssignedResourceTypeId}, connection ${input.connection})`,
    });
    return { workflowId, started: true, superseded };
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError)
      return { workflowId, started: false, superseded };
    throw error;
  }
}

/**
 * A Deleted order supersedes the assignment's grants still waiting on a ticket: they are revoked (their tickets
 * canceled with a note) before the removal is ticketed. Visibility is eventually consistent, so a grant started
 * a moment before may be missed; it then completes on its own and the removal ticket follows it.
 */
async function revokePendingGrants(
  client: Client,
  input: ProvisioningInput,
  deletedOrderId: string,
  requestedBy: string,
): Promise<string[]> {
  const query =
    `WorkflowType = ${visibilityLiteral(PROVISIONING_WORKFLOW_TYPE)} AND ExecutionStatus = 'Running' ` +
    `AND AssignmentId = ${visibilityLiteral(input.order.AssignedResourceTypeId)} ` +
    `AND ConnectionId = ${visibilityLiteral(input.connection)}`;
  const revoked: string[] = [];
  for await (const execution of client.workflow.list({ query })) {
    if (execution.workflowId === deletedOrderId) continue;
    const handle = client.workflow.getHandle<typeof provisioningWorkflow>(execution.workflowId);
    const status = await handle.query(statusQuery);
    if (status.changeType === 'Deleted' || status.result !== undefined) continue;
    try {
      await handle.startUpdate(cancelUpdate, {
        args: [{ reason: `superseded by the Deleted order ${deletedOrderId}`, requestedBy }],
        waitForStage: WorkflowUpdateStage.ACCEPTED,
      });
      revoked.push(execution.workflowId);
    } catch (error) {
      // The grant ended between the query and the update: nothing is pending any more.
      if (!(error instanceof WorkflowUpdateFailedError || error instanceof WorkflowNotFoundError))
        throw error;
    }
  }
  return revoked;
}

export function orderHandle(client: Client, workflowId: string): WorkflowHandle<typeof provisioningWorkflow> {
  return client.workflow.getHandle<typeof provisioningWorkflow>(workflowId);
}
