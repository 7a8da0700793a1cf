import { log } from '@temporalio/activity';
import type { AssignmentStore, AssignmentTransition, RecordResult } from '../assignments/store';
import type { SettingsFile } from '../config/schema';
import type { ProvisioningOrder } from '../provisioning/order';
import { renderTicketContent, resolveMapping } from '../provisioning/ticketContent';
import type { ServiceNowClient } from '../servicenow/client';
import { ServiceNowError } from '../servicenow/errors';
import { isSysId, TICKET_TABLES, type TicketTable } from '../servicenow/tables';
import type { TicketSnapshot } from '../servicenow/tickets';
import type { ProvisioningPolicy, TicketRef, TicketStatus } from '../workflows/provisioning/types';
import { asActivity } from './failures';

export interface ProvisioningActivityDependencies {
  readonly settings: SettingsFile;
  /** One client per connection, shared by all activities so that OAuth tokens are reused. */
  readonly serviceNow: (connection: string) => ServiceNowClient;
  readonly assignments: AssignmentStore;
}

export interface OrderRequest {
  readonly connection: string;
  readonly order: ProvisioningOrder;
  /** The workflow id, which is also the ticket's correlation id. */
  readonly orderId: string;
}

export interface OpenedTicket extends TicketRef {
  readonly state: string;
  readonly stateLabel: string;
  /** False when an earlier attempt had already created it. */
  readonly created: boolean;
  readonly duplicatesRetired: number;
}

export interface CancelTicketRequest {
  readonly connection: string;
  /** Unknown when the order was canceled before its policy was fixed: every ticket table is searched. */
  readonly table?: TicketTable;
  /** Finds the ticket when the workflow never learnt it (canceled while the ticket was being opened). */
  readonly correlationId: string;
  readonly ticket?: TicketRef;
  readonly note: string;
}

export interface CancelledTicket extends TicketStatus, TicketRef {
  /** True when a fulfiller had closed the ticket before the cancellation reached it: that outcome stands. */
  readonly closedBeforeCancel: boolean;
}

export class CallerNotFoundError extends Error {
  constructor(resourceType: string, caller: string) {
    super(
      `Resource type "${resourceType}": CallerId "${caller}" matches no sys_user (give a sys_id or an existing user_name)`,
    );
    this.name = 'CallerNotFoundError';
  }
}

function toStatus(ticket: TicketSnapshot): TicketStatus {
  return {
    found: true,
    state: ticket.state,
    stateLabel: ticket.stateLabel,
    requestState: ticket.requestState,
    active: ticket.active,
    closeCode: ticket.closeCode,
    closeNotes: ticket.closeNotes,
    closedAt: ticket.closedAt,
    closedBy: ticket.closedBy?.name,
    modCount: ticket.modCount,
  };
}

function isNotFound(error: unknown): boolean {
  return error instanceof ServiceNowError && error.status === 404;
}

/** The activities of a provisioning order. Each one is safe to run twice. */
export function createProvisioningActivities(deps: ProvisioningActivityDependencies) {
  const { settings } = deps;
  const callers = new Map<string, string>();

  async function callerSysId(connection: string, resourceType: string, caller: string): Promise<string> {
    if (isSysId(caller)) return caller;
    const key = `${connection}\u0000${caller.toLowerCase()}`;
    const cached = callers.get(key);
    if (cached !== undefined) return cached;
    const user = await deps.serviceNow(connection).findUser(caller, { fields: ['sys_id'] });
    if (user?.sys_id === undefined) throw new CallerNotFoundError(resourceType, caller);
    callers.set(key, user.sys_id);
    return user.sys_id;
  }

  return {
    /** Fixes how the order is handled, and fails it early (non-retryable) on a mapping or template error. */
    async planProvisioning({ connection, order, orderId }: OrderRequest): Promise<ProvisioningPolicy> {
      return asActivity(async () => {
        const resourceType = order.ResourceType.Identifier;
        const mapping = resolveMapping(settings, resourceType, connection);
        // Rendering now surfaces template errors before anything is sent to ServiceNow.
        renderTicketContent({
          resourceType,
          mapping,
          order,
          connection,
          orderId,
        });
        const { Polling, Outcomes, Reminders, Deadline } = settings.TicketConnector;
        return {
          table: mapping.Table,
          synchronisable: !mapping.TicketSynchroIsNotAvailable,
          outcomes: Outcomes[mapping.Table],
          polling: {
            firstCheckAfterMs: Polling.FirstCheckAfter,
            maxIntervalMs: Polling.MaxInterval,
            backoffCoefficient: Polling.BackoffCoefficient,
            jitter: Polling.Jitter,
          },
          reminders: { firstAfterMs: Reminders.FirstAfter, everyMs: Reminders.Every },
          deadline: {
            afterMs: Deadline.After,
            outcome: Deadline.Outcome,
            cancelTicket: Deadline.CancelTicket,
          },
        };
      });
    },

    /** Exactly one ticket per order: the correlation id is the order id, looked up before anything is created. */
    async openTicket(request: OrderRequest): Promise<OpenedTicket> {
      return asActivity(async () => {
        const { connection, order, orderId } = request;
        const resourceType = order.ResourceType.Identifier;
        const mapping = resolveMapping(settings, resourceType, connection);
        const content = renderTicketContent({ resourceType, mapping, order, connection, orderId });
        const caller = await callerSysId(connection, resourceType, content.caller);
        const callerField = content.table === 'incident' ? 'caller_id' : 'requested_for';
        const created = await deps.serviceNow(connection).createTicket({
          table: content.table,
          correlationId: orderId,
          fields: { ...content.fields, [callerField]: caller },
          catalogItemSysId: content.catalogItem,
        });
        const retired = created.duplicates.filter((duplicate) => duplicate.retired).length;
        if (created.duplicates.length > 0) {
          log.warn('Duplicate tickets found for one order', {
            ticket: created.ticket.number,
            duplicates: created.duplicates.map((duplicate) => duplicate.number),
            retired,
          });
        }
        const { ticket } = created;
        return {
          table: ticket.table,
          sysId: ticket.sysId,
          number: ticket.number,
          state: ticket.state,
          stateLabel: ticket.stateLabel,
          created: created.created,
          duplicatesRetired: retired,
        };
      });
    },

    async checkTicket({
      connection,
      ticket,
    }: {
      connection: string;
      ticket: TicketRef;
    }): Promise<TicketStatus> {
      return asActivity(async () => {
        try {
          return toStatus(await deps.serviceNow(connection).getTicket(ticket.table, ticket.sysId));
        } catch (error) {
          if (isNotFound(error)) return { found: false };
          throw error;
        }
      });
    },

    async addTicketNote(request: { connection: string; ticket: TicketRef; text: string }): Promise<void> {
      return asActivity(async () => {
        const { connection, ticket, text } = request;
        await deps.serviceNow(connection).addNote(ticket.table, ticket.sysId, text, 'work_notes');
      });
    },

    /** Cancels with a note; a ticket already closed is left as it is and reported, a missing one is undefined. */
    async cancelTicket(request: CancelTicketRequest): Promise<CancelledTicket | undefined> {
      return asActivity(async () => {
        const client = deps.serviceNow(request.connection);
        let current: TicketSnapshot | undefined;
        if (request.ticket === undefined) {
          for (const table of request.table === undefined ? TICKET_TABLES : [request.table]) {
            current ??= (await client.findByCorrelationId(table, request.correlationId))[0];
          }
        } else {
          try {
            current = await client.getTicket(request.ticket.table, request.ticket.sysId);
          } catch (error) {
            if (!isNotFound(error)) throw error;
          }
        }
        if (current === undefined) return undefined;
        const ref = { table: current.table, sysId: current.sysId, number: current.number };
        if (!current.active) return { ...toStatus(current), ...ref, closedBeforeCancel: true };
        const cancelled = await client.cancelTicket(current.table, current.sysId, request.note);
        return { ...toStatus(cancelled), ...ref, closedBeforeCancel: false };
      });
    },

    async recordAssignment(transition: AssignmentTransition): Promise<RecordResult> {
      return asActivity(() => deps.assignments.record(transition));
    },
  };
}
