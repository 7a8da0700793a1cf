import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { notAnOpenOrderOfTicket } from '../client/orderStatus';
import { orderHandle } from '../client/provisioning';
import { visibilityLiteral } from '../client/visibility';
import { ticketChangedSignal } from '../contract/messages';
import { PROVISIONING_WORKFLOW_TYPE } from '../contract/names';
import type { TicketChangeNotice } from './notice';

/**
 * Ticket numbers are unique per instance only: two connections may both have an INC0010001. A notice without a
 * correlation id tells every open order with that number (each re-reads its own ticket, so a wrong one loses
 * nothing), up to this many.
 */
const MAX_ORDERS_PER_NUMBER = 10;

export type SignalOutcome =
  | { readonly result: 'signaled'; readonly orders: readonly string[] }
  | { readonly result: 'ignored'; readonly reason: string };

/**
 * Tells the order(s) of a ticket that it changed: the order named by the notice's correlation id (checked to be
 * an open provisioning order of this ticket), else the open orders whose TicketNumber is the notice's number.
 * Temporal errors other than "no such workflow" propagate: the notice was not delivered.
 */
export async function signalTicketOrders(client: Client, notice: TicketChangeNotice): Promise<SignalOutcome> {
  const candidates =
    notice.correlationId === undefined
      ? await openOrdersOfNumber(client, notice.number)
      : await checkedOrder(client, notice.correlationId, notice.number);
  if (typeof candidates === 'string') return { result: 'ignored', reason: candidates };
  const signaled: string[] = [];
  for (const workflowId of candidates) {
    try {
      await orderHandle(client, workflowId).signal(ticketChangedSignal, {
        sysModCount: notice.sysModCount,
        source: 'push',
      });
      signaled.push(workflowId);
    } catch (error) {
      // It closed between the lookup and the signal: nothing is waiting for this ticket any more.
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    }
  }
  return signaled.length === 0
    ? { result: 'ignored', reason: 'the order has already ended' }
    : { result: 'signaled', orders: signaled };
}

/** The order named by the correlation id when it is open and tracks this ticket; else why it is ignored. */
async function checkedOrder(client: Client, workflowId: string, number: string): Promise<string[] | string> {
  return (await notAnOpenOrderOfTicket(client, workflowId, number)) ?? [workflowId];
}

/** Open orders whose TicketNumber is `number` (visibility: an order that recorded its ticket a moment ago may not show yet). */
async function openOrdersOfNumber(client: Client, number: string): Promise<string[] | string> {
  const query = [
    `WorkflowType = ${visibilityLiteral(PROVISIONING_WORKFLOW_TYPE)}`,
    `ExecutionStatus = 'Running'`,
    `TicketNumber = ${visibilityLiteral(number)}`,
  ].join(' AND ');
  const found: string[] = [];
  for await (const execution of client.workflow.list({ query, pageSize: MAX_ORDERS_PER_NUMBER })) {
    found.push(execution.workflowId);
    if (found.length >= MAX_ORDERS_PER_NUMBER) break;
  }
  return found.length === 0 ? 'no open order has this ticket number' : found;
}
