import {
  WorkflowFailedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowExecutionDescription,
} from '@temporalio/client';
import { statusQuery } from '../contract/messages';
import { PROVISIONING_WORKFLOW_TYPE } from '../contract/names';
import type { ProvisioningResult, ProvisioningStatus } from '../contract/provisioning';
import {
  AssignmentId,
  ConnectionId,
  ProvisioningState,
  ResourceType,
  TicketNumber,
  TicketState,
} from '../contract/searchAttributes';
import { messageOf } from './session';
import { orderHandle } from './provisioning';
import { payloadKeyErrorIn } from '../codec/keyErrors';

/** The workflow id names a workflow of another type (an export, a self-check): not a provisioning order. */
export class NotAnOrderError extends Error {
  constructor(
    readonly workflowId: string,
    readonly workflowType: string,
  ) {
    super(`${workflowId} is a ${workflowType} workflow, not a provisioning order`);
    this.name = 'NotAnOrderError';
  }
}

/** `Running`, `Completed`, `Timed out`: an execution status (RUNNING, TIMED_OUT) as a word. */
export function executionLabel(status: string): string {
  return status.charAt(0) + status.slice(1).toLowerCase().replace(/_/g, ' ');
}

/** The order's execution; NotAnOrderError when the id names another kind of workflow. */
export async function describeOrder(
  client: Client,
  workflowId: string,
): Promise<WorkflowExecutionDescription> {
  const description = await orderHandle(client, workflowId).describe();
  if (description.type !== PROVISIONING_WORKFLOW_TYPE) {
    throw new NotAnOrderError(workflowId, description.type);
  }
  return description;
}

/**
 * Why the workflow a ticket's `correlation_id` names is not an open order waiting for that ticket, or undefined
 * when it is: a running provisioning workflow whose TicketNumber is this ticket's (or not yet set: the order
 * checks the ticket it reads). A correlation id is free text a fulfiller can edit, so push and sweep both ask
 * this before they signal. Temporal errors other than "no such workflow" propagate.
 */
export async function notAnOpenOrderOfTicket(
  client: Client,
  workflowId: string,
  ticketNumber: string,
): Promise<string | undefined> {
  try {
    const description = await describeOrder(client, workflowId);
    if (description.status.name !== 'RUNNING') return 'the order has already ended';
    const tracked = orderSearchAttributes(description).ticketNumber;
    if (tracked !== undefined && tracked !== ticketNumber) return 'the order tracks another ticket';
    return undefined;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return 'no order has this correlation id';
    if (error instanceof NotAnOrderError) return 'the correlation id names no provisioning order';
    throw error;
  }
}

/** The order's search attributes, as the workflow last set them. */
export function orderSearchAttributes(execution: {
  typedSearchAttributes: WorkflowExecutionDescription['typedSearchAttributes'];
}) {
  const get = (key: typeof TicketNumber) => execution.typedSearchAttributes.get(key);
  return {
    provisioningState: get(ProvisioningState),
    ticketNumber: get(TicketNumber),
    ticketState: get(TicketState),
    assignmentId: get(AssignmentId),
    resourceType: get(ResourceType),
    connection: get(ConnectionId),
  };
}

export interface OrderStatusReport {
  readonly workflowId: string;
  readonly runId: string;
  readonly execution: string;
  readonly startTime: string;
  readonly closeTime?: string;
  readonly status?: ProvisioningStatus;
  readonly result?: ProvisioningResult;
  readonly failure?: string;
  readonly queryError?: string;
  readonly searchAttributes: ReturnType<typeof orderSearchAttributes>;
}

/**
 * Everything known of an order: the workflow's own status (a query, answered by a worker, also for closed orders),
 * else a closed order's result or failure, and always the execution record and its search attributes. Each call
 * to the server gives up after `timeoutMs`.
 */
export async function orderStatus(
  client: Client,
  workflowId: string,
  timeoutMs: number,
): Promise<OrderStatusReport> {
  const handle = orderHandle(client, workflowId);
  const description = await describeOrder(client, workflowId);
  const running = description.status.name === 'RUNNING';
  let status: ProvisioningStatus | undefined;
  let queryError: string | undefined;
  try {
    status = await client.withDeadline(Date.now() + timeoutMs, () => handle.query(statusQuery));
  } catch (error) {
    // An answer this side has no key for: say so (see cliErrorOf) rather than show less.
    if (payloadKeyErrorIn(error) !== undefined) throw error;
    // A closed order is answered by a worker replaying its history; without one, its result still tells.
    queryError = messageOf(error);
  }
  let result = status?.result;
  let failure: string | undefined;
  if (!running && result === undefined) {
    try {
      result = await client.withDeadline(Date.now() + timeoutMs, () => handle.result());
    } catch (error) {
      if (payloadKeyErrorIn(error) !== undefined) throw error;
      failure =
        error instanceof WorkflowFailedError
          ? `${executionLabel(description.status.name)}: ${error.cause?.message ?? error.message}`
          : messageOf(error);
    }
  }
  return {
    workflowId,
    runId: description.runId,
    execution: description.status.name,
    startTime: description.startTime.toISOString(),
    closeTime: description.closeTime?.toISOString(),
    status,
    result,
    failure,
    queryError,
    searchAttributes: orderSearchAttributes(description),
  };
}
