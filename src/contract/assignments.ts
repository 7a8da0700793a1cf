import type { OrderKey } from './order';
import type { ConnectorState } from './states';

/** The ticket an assignment is waiting on, as the ledger and Identity Manager see it. */
export interface AssignmentTicket {
  readonly table: string;
  readonly number: string;
  readonly sysId: string;
  /** The ticket's state label when the transition was recorded ("Closed", "Canceled"). */
  readonly state?: string;
}

/** Why the assignment ended where it did: kept with the result for operators and audits. */
export interface TransitionDetail {
  readonly closeCode?: string;
  readonly closeNotes?: string;
  readonly closedBy?: string;
  readonly closedAt?: string;
  /** A revocation, deadline, failure or mapping reason in the connector's words. */
  readonly reason?: string;
}

/**
 * One provisioning state change of one assignment, caused by one order (one workflow). `orderId` (the workflow
 * id) and `state` together identify the transition: recording it again is harmless. A store never moves an
 * assignment back from a final state to Transmitted.
 */
export interface AssignmentTransition extends OrderKey {
  readonly state: ConnectorState;
  readonly ticket?: AssignmentTicket;
  readonly detail?: TransitionDetail;
  /** ISO 8601 time of the change, from the workflow's clock (so replays and retries agree). */
  readonly at: string;
}

export interface RecordResult {
  /** False when this transition had been recorded before (a retried activity), or would move backwards. */
  readonly applied: boolean;
}
