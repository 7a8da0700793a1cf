import type { ChangeType } from '../../provisioning/order';
import type { ConnectorState, TicketOutcome } from '../../provisioning/states';
import type { TicketTable } from '../../servicenow/tables';

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

export interface TicketRef {
  readonly table: TicketTable;
  readonly sysId: string;
  readonly number: string;
}

/** A status read, reduced to what decides the outcome and what operators are told. */
export interface TicketStatus {
  readonly found: boolean;
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

export type Phase = 'preparing' | 'opening-ticket' | 'waiting' | 'canceling' | 'recording' | 'done';

/** How the order ended, in the connector's words. */
export type Resolution =
  'ticket-closed' | 'ticket-canceled' | 'ticket-missing' | 'revoked' | 'workflow-canceled' | 'deadline';

export interface ProvisioningResult {
  readonly orderId: string;
  readonly assignmentId: string;
  readonly connection: string;
  readonly resourceType: string;
  readonly changeType: ChangeType;
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

export interface ProvisioningStatus {
  readonly orderId: string;
  readonly phase: Phase;
  readonly assignmentId: string;
  readonly connection: string;
  readonly resourceType: string;
  readonly changeType: ChangeType;
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
  readonly cancelRequested?: { readonly reason: string; readonly requestedBy?: string };
  readonly run: number;
  readonly result?: ProvisioningResult;
}

/** What a run hands to the next one through continue-as-new. */
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
  readonly cancelRequested?: { readonly reason: string; readonly requestedBy?: string };
  /** A ticketChanged notice not yet acted on when the run ended. */
  readonly checkRequested?: boolean;
  readonly missingReads?: number;
  readonly lastCheckError?: string;
  readonly run: number;
}
