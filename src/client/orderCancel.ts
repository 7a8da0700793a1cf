import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { cancelUpdate, type CancelRequest } from '../contract/messages';
import type { ProvisioningResult } from '../contract/provisioning';
import { describeOrder } from './orderStatus';
import { orderHandle } from './provisioning';

/** What became of a cancellation request. */
export type CancelOutcome =
  /** The workflow carried it out: `result` says whether the ticket was canceled or had been closed first. */
  | { readonly kind: 'done'; readonly result: ProvisioningResult }
  /** The order had ended before: nothing to cancel. `result` is absent when it failed, was terminated... */
  | { readonly kind: 'finished'; readonly execution: string; readonly result?: ProvisioningResult }
  /** The workflow refused the request (its validator's or handler's message). */
  | { readonly kind: 'refused'; readonly reason: string }
  /** No worker carried it out within the time given; it may still be, once one runs. */
  | { readonly kind: 'no-answer'; readonly error: unknown };

async function finished(client: Client, workflowId: string, execution: string): Promise<CancelOutcome> {
  try {
    return { kind: 'finished', execution, result: await orderHandle(client, workflowId).result() };
  } catch {
    // Failed, terminated, canceled: the execution status says enough.
    return { kind: 'finished', execution };
  }
}

/**
 * Revokes a running order (its cancel update) and waits up to `timeoutMs` for the workflow to carry it out.
 * NotAnOrderError when the id names another kind of workflow.
 */
export async function cancelOrder(
  client: Client,
  workflowId: string,
  request: CancelRequest,
  timeoutMs: number,
): Promise<CancelOutcome> {
  const description = await describeOrder(client, workflowId);
  if (description.status.name !== 'RUNNING') return finished(client, workflowId, description.status.name);
  try {
    const result = await client.withDeadline(Date.now() + timeoutMs, () =>
      orderHandle(client, workflowId).executeUpdate(cancelUpdate, { args: [request] }),
    );
    return { kind: 'done', result };
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError) {
      return { kind: 'refused', reason: error.cause?.message ?? error.message };
    }
    if (error instanceof WorkflowNotFoundError) return finished(client, workflowId, 'COMPLETED');
    return { kind: 'no-answer', error };
  }
}
