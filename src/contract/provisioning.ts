import { z } from 'zod';
import { isSysId, TICKET_TABLES, type TicketTable } from './tickets';
import {
  clip,
  MAX_FIELD_LENGTH,
  MAX_MESSAGE_LENGTH,
  MAX_NOTES_LENGTH,
  MAX_REASON_LENGTH,
  MAX_REQUESTED_BY_LENGTH,
} from './limits';
import type { OrderKey } from './order';
import { TICKET_OUTCOMES, type ConnectorState, type TicketOutcome } from './states';

/** How one order is handled, fixed when the order arrives (from the worker's settings) and kept in history. */
export interface ProvisioningPolicy {
  readonly table: TicketTable;
  /** False for resource types flagged `TicketSynchroIsNotAvailable`: a closed ticket gives Verified. */
  readonly synchronisable: boolean;
  /** Ticket state (incident) or request_state (sc_request) -> outcome. */
  readonly outcomes: Readonly<Record<string, TicketOutcome>>;
  readonly polling: {
    readonly firstCheckAfterMs: number;
    readonly maxIntervalMs: number;
    readonly backoffCoefficient: number;
    readonly jitter: number;
  };
  readonly reminders: { readonly firstAfterMs?: number; readonly everyMs?: number };
  readonly deadline: {
    readonly afterMs?: number;
    readonly outcome: TicketOutcome;
    readonly cancelTicket: boolean;
  };
}

/** What the ticket says, rendered once from the resource type mapping and kept in history. */
export interface TicketContent {
  readonly table: TicketTable;
  /** The mapping's CallerId: a sys_id or a user_name, still to be resolved to a sys_id. */
  readonly caller: string;
  /** Field values to write, only fields the table has. */
  readonly fields: Readonly<Record<string, string>>;
  /** For sc_request: the catalog item to order instead of inserting the request. */
  readonly catalogItem?: string;
}

/**
 * The policy and the ticket's content, decided together when the order arrives. `content` is absent only in
 * histories of the first release, whose ticket was rendered again when it was opened.
 */
export interface ProvisioningPlan extends ProvisioningPolicy {
  readonly content?: TicketContent;
}

export interface TicketRef {
  readonly table: TicketTable;
  readonly sysId: string;
  readonly number: string;
}

/** A status read, reduced to what decides the outcome and what operators are told. */
export interface TicketStatus {
  /** False when the ticket is gone, unreadable, or no longer carries this order's correlation id. */
  readonly found: boolean;
  /** Why a ticket was not found when it exists: it belongs to another order now. */
  readonly notFoundReason?: string;
  readonly state?: string;
  readonly stateLabel?: string;
  readonly requestState?: string;
  readonly active?: boolean;
  readonly closeCode?: string;
  readonly closeNotes?: string;
  readonly closedAt?: string;
  readonly closedBy?: string;
  readonly modCount?: number;
}

export type Phase =
  | 'preparing'
  | 'opening-ticket'
  /** An order that carries a password, on the password task queue: no ticket, the password is set. */
  | 'setting-password'
  | 'waiting'
  | 'canceling'
  | 'recording'
  | 'done';

/** How the order ended, in the connector's words. */
export type Resolution =
  | 'ticket-closed'
  | 'ticket-canceled'
  | 'ticket-missing'
  | 'revoked'
  | 'workflow-canceled'
  | 'deadline'
  /** The order could not be carried out (a mapping, template or caller error); the workflow fails after recording. */
  | 'failed'
  /** An order that carries a password: the password is set (Executed), or ServiceNow refused it (Errored). */
  | 'password-set'
  | 'password-refused';

export interface ProvisioningResult extends OrderKey {
  readonly provisioningState: ConnectorState;
  readonly resolution: Resolution;
  readonly ticket?: TicketRef & { readonly state?: string; readonly stateLabel?: string };
  readonly closeCode?: string;
  readonly closeNotes?: string;
  readonly closedBy?: string;
  readonly closedAt?: string;
  readonly reason?: string;
  readonly checks: number;
}

export interface CancelRequest {
  readonly reason: string;
  /** Who asked (an operator login, "Identity Manager"); kept in the audit trail. */
  readonly requestedBy?: string;
}

export interface ProvisioningStatus extends OrderKey {
  readonly phase: Phase;
  readonly provisioningState: ConnectorState | 'Pending';
  readonly ticket?: TicketRef;
  readonly ticketState?: string;
  readonly checks: number;
  readonly failedChecks: number;
  /** Why the latest check failed, while checks keep failing. */
  readonly lastCheckError?: string;
  readonly lastCheckAt?: string;
  readonly nextCheckAt?: string;
  readonly remindersSent: number;
  readonly openedAt?: string;
  readonly cancelRequested?: CancelRequest;
  readonly run: number;
  readonly result?: ProvisioningResult;
}

/**
 * The state of an order whose ticket is open: what one run hands to the next through continue-as-new, and the
 * one object the workflow keeps while it waits.
 */
export interface CarriedState {
  readonly policy: ProvisioningPolicy;
  readonly ticket: TicketRef;
  readonly openedAt: number;
  readonly checks: number;
  readonly failedChecks: number;
  readonly pollStep: number;
  readonly nextCheckAt: number;
  readonly lastCheckAt?: number;
  readonly lastStatus?: TicketStatus;
  readonly remindersSent: number;
  readonly cancelRequested?: CancelRequest;
  /** A ticketChanged notice not yet acted on when the run ended. */
  readonly checkRequested?: boolean;
  /** Consecutive reads that did not find the ticket. */
  readonly missingReads?: number;
  readonly lastCheckError?: string;
  readonly run: number;
  /**
   * The first run id of the workflow chain that wrote this state. No client can know it before starting a
   * workflow, so a state carrying it was handed on by a run of this very order. Absent in the first release.
   */
  readonly chain?: string;
}

const count = z.number().int().min(0);
const time = z.number().int().min(0);
const duration = z.number().min(0).max(Number.MAX_SAFE_INTEGER);
/** Text read from ServiceNow: clipped rather than refused, since runs of older releases did not clip it. */
const peerText = (max: number) => z.string().transform((value) => clip(value, max));
const field = peerText(MAX_FIELD_LENGTH);

const ticketRefSchema = z.object({
  table: z.enum(TICKET_TABLES),
  sysId: z.string().refine(isSysId, 'must be a sys_id (32 hex characters)'),
  number: z.string().min(1).max(MAX_FIELD_LENGTH),
});

const policySchema = z.object({
  table: z.enum(TICKET_TABLES),
  synchronisable: z.boolean(),
  outcomes: z.record(z.string(), z.enum(TICKET_OUTCOMES)),
  polling: z.object({
    firstCheckAfterMs: duration,
    maxIntervalMs: duration,
    backoffCoefficient: z.number().min(1).max(100),
    jitter: z.number().min(0).max(1),
  }),
  reminders: z.object({ firstAfterMs: duration.optional(), everyMs: duration.optional() }),
  deadline: z.object({
    afterMs: duration.optional(),
    outcome: z.enum(TICKET_OUTCOMES),
    cancelTicket: z.boolean(),
  }),
});

const statusSchema = z.object({
  found: z.boolean(),
  notFoundReason: peerText(MAX_MESSAGE_LENGTH).optional(),
  state: field.optional(),
  stateLabel: field.optional(),
  requestState: field.optional(),
  active: z.boolean().optional(),
  closeCode: field.optional(),
  closeNotes: peerText(MAX_NOTES_LENGTH).optional(),
  closedAt: field.optional(),
  closedBy: field.optional(),
  modCount: count.optional(),
});

/**
 * The carried state as a continued run accepts it. Only a continued run is handed one, and even then it is
 * checked: it decides which ticket the connector's account cancels and whose outcome lands on the assignment.
 */
export const carriedStateSchema = z.object({
  policy: policySchema,
  ticket: ticketRefSchema,
  openedAt: time,
  checks: count,
  failedChecks: count,
  pollStep: count,
  nextCheckAt: time,
  lastCheckAt: time.optional(),
  lastStatus: statusSchema.optional(),
  remindersSent: count,
  cancelRequested: z
    .object({
      reason: z.string().min(1).max(MAX_REASON_LENGTH),
      requestedBy: z.string().max(MAX_REQUESTED_BY_LENGTH).optional(),
    })
    .optional(),
  checkRequested: z.boolean().optional(),
  missingReads: count.optional(),
  lastCheckError: peerText(MAX_MESSAGE_LENGTH).optional(),
  run: count,
  chain: z.string().max(MAX_FIELD_LENGTH).optional(),
});
