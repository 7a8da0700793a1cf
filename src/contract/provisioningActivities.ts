import type { AssignmentTransition, RecordResult } from './assignments';
import type { ProvisioningOrder } from './order';
import type { ProvisioningPlan, TicketContent, TicketRef, TicketStatus } from './provisioning';
import type { TicketTable } from './tickets';

/**
 * The activities a provisioning order runs, as the workflow sees them. The worker's implementations
 * (`src/activities/provisioning.ts`) satisfy this interface; workflow code only ever imports it as a type.
 */

export interface OrderRequest {
  readonly connection: string;
  readonly order: ProvisioningOrder;
  /** The workflow id, which is also the ticket's correlation id. */
  readonly orderId: string;
}

export interface OpenTicketRequest extends OrderRequest {
  /** The content fixed by `planProvisioning`; absent for runs of the first release, which render it here. */
  readonly content?: TicketContent;
}

export interface OpenedTicket extends TicketRef {
  readonly state: string;
  readonly stateLabel: string;
  /** False when an earlier attempt had already created it. */
  readonly created: boolean;
  readonly duplicatesRetired: number;
}

/** A ticket of this order: the activity acts on it only if it still carries `orderId` as its correlation id. */
export interface OrderTicketRequest {
  readonly connection: string;
  readonly ticket: TicketRef;
  /** Absent only in histories of the first release. */
  readonly orderId?: string;
}

/**
 * Why the workflow checks: `schedule` is its safety poll, `notice` a ticketChanged signal (push or sweep). The
 * activity reads scheduled checks at a lower priority when calls are scarce.
 */
export type CheckTrigger = 'schedule' | 'notice';

export interface CheckTicketRequest extends OrderTicketRequest {
  /** Absent in histories of runs that predate the check-triggers patch. */
  readonly trigger?: CheckTrigger;
}

export interface TicketNoteRequest extends OrderTicketRequest {
  readonly text: string;
}

export interface CancelTicketRequest {
  readonly connection: string;
  /** Unknown when the order was canceled before its policy was fixed: every ticket table is searched. */
  readonly table?: TicketTable;
  /** The order id: finds the ticket when the workflow never learnt it, and proves a known one is the order's. */
  readonly correlationId: string;
  readonly ticket?: TicketRef;
  readonly note: string;
}

export interface CancelledTicket extends TicketStatus, TicketRef {
  /** True when a fulfiller had closed the ticket before the cancellation reached it: that outcome stands. */
  readonly closedBeforeCancel: boolean;
}

export interface ProvisioningActivities {
  /** Fixes how the order is handled and what its ticket says; fails early on a mapping or template error. */
  planProvisioning(request: OrderRequest): Promise<ProvisioningPlan>;
  /** Exactly one ticket per order, whatever retries and crashes happen. */
  openTicket(request: OpenTicketRequest): Promise<OpenedTicket>;
  checkTicket(request: CheckTicketRequest): Promise<TicketStatus>;
  addTicketNote(request: TicketNoteRequest): Promise<void>;
  /** Cancels with a note; a ticket already closed is reported, a missing one is undefined. */
  cancelTicket(request: CancelTicketRequest): Promise<CancelledTicket | undefined>;
  /** Retries until the store takes it: a refusal leaves the order waiting, never failed. */
  recordAssignment(transition: AssignmentTransition): Promise<RecordResult>;
}
