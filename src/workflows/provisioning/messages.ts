import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ProvisioningResult, ProvisioningStatus } from './types';

/**
 * The provisioning workflow's messages: shared by the workflow and every client (CLI, Identity Manager side,
 * push receivers), so their names are a public contract like the workflow type and input.
 */

/** Something about the ticket may have changed (a push from ServiceNow, a batched status read): check now. */
export interface TicketChangedSignal {
  /** `sys_mod_count` the sender saw; a notice older than what the workflow already saw is ignored. */
  readonly sysModCount?: number;
  readonly source?: string;
}
export const ticketChangedSignal = defineSignal<[TicketChangedSignal?]>('ticketChanged');

/** Revokes the order before fulfilment: cancels the ticket with a note and records the assignment. */
export interface CancelRequest {
  readonly reason: string;
  /** Who asked (an operator login, "Identity Manager"); kept in the audit trail. */
  readonly requestedBy?: string;
}
export const cancelUpdate = defineUpdate<ProvisioningResult, [CancelRequest]>('cancel');

export const statusQuery = defineQuery<ProvisioningStatus>('status');
