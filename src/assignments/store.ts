import type { OrderKey } from '../contract/order';
import type { ConnectorState } from '../contract/states';
import type {
  AssignmentTicket,
  AssignmentTransition,
  RecordResult,
  TransitionDetail,
} from '../contract/assignments';

export type { AssignmentTicket, AssignmentTransition, RecordResult, TransitionDetail };

/** The states that end an order. Once one is recorded, a Transmitted for the same order is a step backwards. */
export const FINAL_STATES: ReadonlySet<ConnectorState> = new Set(['Executed', 'Verified', 'Errored']);

export function isFinalState(state: ConnectorState): boolean {
  return FINAL_STATES.has(state);
}

/** The Identity Manager side of the connector: where assignment states go. */
export interface AssignmentStore {
  record(transition: AssignmentTransition): Promise<RecordResult>;
  close(): Promise<void>;
}

/** A store that can also answer questions (the embedded ledger). */
export interface AssignmentView extends OrderKey {
  readonly state: ConnectorState;
  readonly ticket?: AssignmentTicket;
  readonly detail?: TransitionDetail;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface AssignmentQuery {
  readonly state?: ConnectorState;
  readonly connection?: string;
  readonly assignmentId?: string;
  readonly limit?: number;
}

export interface QueryableAssignmentStore extends AssignmentStore {
  list(query?: AssignmentQuery): Promise<AssignmentView[]>;
  /** Every transition of one order, oldest first. */
  history(orderId: string): Promise<AssignmentTransition[]>;
}
