import type { Client } from '@temporalio/client';
import { PROVISIONING_WORKFLOW_TYPE } from '../contract/names';
import { CONNECTOR_STATES } from '../contract/states';
import { orderSearchAttributes } from './orderStatus';
import { visibilityLiteral } from './visibility';

/** The provisioning states an order's ProvisioningState search attribute takes: Pending until a ticket is open. */
export const ORDER_STATES = ['Pending', ...CONNECTOR_STATES] as const;

/** Filters on the search attributes the workflow sets; absent ones match every order. */
export interface OrderFilters {
  readonly state?: string;
  readonly ticket?: string;
  readonly assignment?: string;
  readonly connection?: string;
}

export function listQuery(filters: OrderFilters): string {
  return [
    `WorkflowType = ${visibilityLiteral(PROVISIONING_WORKFLOW_TYPE)}`,
    ...(filters.state === undefined ? [] : [`ProvisioningState = ${visibilityLiteral(filters.state)}`]),
    ...(filters.ticket === undefined ? [] : [`TicketNumber = ${visibilityLiteral(filters.ticket)}`]),
    ...(filters.assignment === undefined ? [] : [`AssignmentId = ${visibilityLiteral(filters.assignment)}`]),
    ...(filters.connection === undefined ? [] : [`ConnectionId = ${visibilityLiteral(filters.connection)}`]),
  ].join(' AND ');
}

export interface ListedOrder extends ReturnType<typeof orderSearchAttributes> {
  readonly workflowId: string;
  readonly runId: string;
  readonly execution: string;
  readonly startTime: string;
  readonly closeTime?: string;
}

/**
 * At most `limit` orders matching the filters, through Temporal's visibility, which is eventually consistent: an
 * order started or changed a second ago may not show yet.
 */
export async function listOrders(
  client: Client,
  filters: OrderFilters,
  limit: number,
): Promise<ListedOrder[]> {
  const rows: ListedOrder[] = [];
  for await (const execution of client.workflow.list({
    query: listQuery(filters),
    pageSize: Math.min(limit, 1000),
  })) {
    rows.push({
      workflowId: execution.workflowId,
      runId: execution.runId,
      execution: execution.status.name,
      startTime: execution.startTime.toISOString(),
      closeTime: execution.closeTime?.toISOString(),
      ...orderSearchAttributes(execution),
    });
    if (rows.length >= limit) break;
  }
  return rows;
}
