import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { MAX_REASON_LENGTH, MAX_REQUESTED_BY_LENGTH } from './limits';
import type { CancelRequest, ProvisioningResult, ProvisioningStatus } from './provisioning';

export type { CancelRequest };

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
export const cancelUpdate = defineUpdate<ProvisioningResult, [CancelRequest]>('cancel');

export const statusQuery = defineQuery<ProvisioningStatus>('status');

/** What is wrong with a cancel request, as field-level messages; checked by the workflow and by clients. */
export function cancelRequestProblems(request: unknown): string[] {
  const { reason, requestedBy } = (request ?? {}) as Partial<Record<keyof CancelRequest, unknown>>;
  const problems: string[] = [];
  if (typeof reason !== 'string' || reason.trim() === '') {
    problems.push('reason: must be a non-empty string saying why the order is revoked');
  } else if (reason.length > MAX_REASON_LENGTH) {
    problems.push(`reason: must be at most ${MAX_REASON_LENGTH} characters`);
  }
  if (
    requestedBy !== undefined &&
    (typeof requestedBy !== 'string' || requestedBy.length > MAX_REQUESTED_BY_LENGTH)
  ) {
    problems.push(`requestedBy: must be a string of at most ${MAX_REQUESTED_BY_LENGTH} characters`);
  }
  return problems;
}

/** Checks a ticketChanged notice: a bad one is ignored rather than trusted. */
export function isTicketChangedNotice(notice: unknown): notice is TicketChangedSignal | undefined {
  if (notice === undefined || notice === null) return true;
  if (typeof notice !== 'object') return false;
  const { sysModCount } = notice as Partial<Record<keyof TicketChangedSignal, unknown>>;
  return sysModCount === undefined || (Number.isSafeInteger(sysModCount) && (sysModCount as number) >= 0);
}
