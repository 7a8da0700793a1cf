import type { ChangeType } from '../contract/order';
import type { ConnectorState } from '../contract/states';
import type {
  AssignmentTicket,
  AssignmentTransition,
  RecordResult,
  TransitionDetail,
} from '../contract/assignments';

export type { AssignmentTicket, AssignmentTransition, RecordResult, TransitionDetail };

/** The Identity Manager side of the connector: where assignment states go. */
export interface AssignmentStore {
  record(transition: AssignmentTransition): Promise<RecordResult>;
  close(): Promise<void>;
}

/** A store that can also answer questions (the embedded ledger). */
export interface AssignmentView {
  readonly assignmentId: string;
  readonly connection: string;
  readonly resourceType: string;
  readonly changeType: ChangeType;
  readonly orderId: string;
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
