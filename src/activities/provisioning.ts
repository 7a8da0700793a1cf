import { ApplicationFailure, Context, log } from '@temporalio/activity';
import type { AssignmentStore } from '../assignments/store';
import type {
  CancelledTicket,
  CheckTrigger,
  OpenedTicket,
  OrderRequest,
  OrderTicketRequest,
  ProvisioningActivities,
} from '../contract/provisioningActivities';
import { clip, clipOptional, MAX_FIELD_LENGTH, MAX_NOTES_LENGTH } from '../contract/limits';
import type {
  ProvisioningPlan,
  ProvisioningPolicy,
  TicketContent,
  TicketStatus,
} from '../contract/provisioning';
import type { TicketOutcome } from '../contract/states';
import type { TicketTable } from '../contract/tickets';
import {
  renderTicketContent,
  resolveMapping,
  type ResourceTypeMappings,
} from '../provisioning/ticketContent';
import type { CallPriority } from '../servicenow/budget';
import type { ServiceNowClient } from '../servicenow/client';
import { withPriority, type ServiceNowClients } from '../servicenow/connection';
import { ServiceNowError } from '../servicenow/errors';
import { isSysId, TICKET_TABLES } from '../servicenow/tables';
import type { TicketSnapshot } from '../servicenow/tickets';
import { asActivity, asMustHappenActivity } from './failures';
import { PasswordFailureTypes } from '../contract/passwordReset';
import { passwordTaskQueue } from '../contract/names';
import { carriesPassword } from '../provisioning/orderPassword';
import type { ResourceTypeMapping } from '../provisioning/ticketContent';
import { heartbeating } from './heartbeat';
import { noMetrics, type ConnectorMetrics } from '../platform/metrics';

/** How every order is handled, whatever its resource type: fixed into each order's plan when it arrives. */
export interface ProvisioningSettings {
  /** Per table: ticket state (incident) or request_state (sc_request) -> outcome. */
  readonly outcomes: Readonly<Record<TicketTable, Readonly<Record<string, TicketOutcome>>>>;
  readonly polling: ProvisioningPolicy['polling'];
  readonly reminders: ProvisioningPolicy['reminders'];
  readonly deadline: ProvisioningPolicy['deadline'];
}

export interface ProvisioningActivityDependencies {
  readonly mappings: ResourceTypeMappings;
  readonly settings: ProvisioningSettings;
  /** One client per connection, shared by all activities so that OAuth tokens are reused. */
  readonly serviceNow: ServiceNowClients;
  readonly assignments: AssignmentStore;
  /** Counts the states recorded; nothing by default. */
  readonly metrics?: ConnectorMetrics;
}

export class CallerNotFoundError extends Error {
  constructor(resourceType: string, caller: string) {
    super(
      `Resource type "${resourceType}": CallerId "${caller}" matches no sys_user (give a sys_id or an existing user_name)`,
    );
    this.name = 'CallerNotFoundError';
  }
}

/** Texts from ServiceNow are clipped: they are kept in workflow state, results and the stores. */
function toStatus(ticket: TicketSnapshot): TicketStatus {
  return {
    found: true,
    state: clip(ticket.state, MAX_FIELD_LENGTH),
    stateLabel: clip(ticket.stateLabel, MAX_FIELD_LENGTH),
    requestState: clipOptional(ticket.requestState, MAX_FIELD_LENGTH),
    active: ticket.active,
    closeCode: clipOptional(ticket.closeCode, MAX_FIELD_LENGTH),
    closeNotes: clipOptional(ticket.closeNotes, MAX_NOTES_LENGTH),
    closedAt: clipOptional(ticket.closedAt, MAX_FIELD_LENGTH),
    closedBy: clipOptional(ticket.closedBy?.name, MAX_FIELD_LENGTH),
    // A count only: an instance answering something else must not make the state unreadable for the next run.
    modCount: Number.isSafeInteger(ticket.modCount) && ticket.modCount >= 0 ? ticket.modCount : undefined,
  };
}

const CHECK_PRIORITIES: Readonly<Record<CheckTrigger, CallPriority>> = {
  // The safety poll: pushes and the sweep usually tell first, so it yields when calls are scarce.
  schedule: 'background',
  notice: 'normal',
};

/**
 * The priority of a ticket check. Its trigger comes from workflow history: anything but a known one (runs older
 * than the check-triggers patch send none) checks as `normal`, so that no value can raise a check above it.
 */
function checkPriority(trigger: unknown): CallPriority {
  return typeof trigger === 'string' && Object.hasOwn(CHECK_PRIORITIES, trigger)
    ? CHECK_PRIORITIES[trigger as CheckTrigger]
    : 'normal';
}

/** A ticket acted on must carry the order's correlation id: a fulfiller may re-use it, a client may lie. */
function belongsToOrder(ticket: TicketSnapshot, orderId: string | undefined): boolean {
  return orderId === undefined || ticket.correlationId === orderId;
}

function notTheOrders(ticket: TicketSnapshot, orderId: string): string {
  return `${ticket.table} ${ticket.number} no longer carries this order's correlation id (${orderId})`;
}

export class TicketMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TicketMismatchError';
  }
}

/**
 * An order carrying its mapping's password attribute, sent to a queue that opens tickets: refused, nothing sent.
 * A password never goes into a ticket, nor into the plan this queue's history keeps in clear.
 */
function refusePassword(
  resourceType: string,
  mapping: ResourceTypeMapping,
  order: OrderRequest['order'],
): ResourceTypeMapping {
  if (!carriesPassword(mapping, order)) return mapping;
  const queue = Context.current().info.taskQueue;
  throw ApplicationFailure.create({
    type: PasswordFailureTypes.wrongTaskQueue,
    message:
      `Resource type "${resourceType}": the order carries a password (Changes.${mapping.Password?.Attribute}), ` +
      `which never goes into a ticket: start it on "${passwordTaskQueue(queue)}" (snow-ticket does when ` +
      'a payload key is active). Nothing was sent to ServiceNow',
    nonRetryable: true,
  });
}

function isNotFound(error: unknown): boolean {
  return error instanceof ServiceNowError && error.status === 404;
}

/** The activities of a provisioning order. Each one is safe to run twice. */
export function createProvisioningActivities(deps: ProvisioningActivityDependencies): ProvisioningActivities {
  const { mappings, settings } = deps;
  const metrics = deps.metrics ?? noMetrics;
  const callers = new Map<string, string>();
  // Priorities in each connection's call budget: what an order waits for first, reminders last.
  const urgent = withPriority(deps.serviceNow, 'urgent');
  const background = withPriority(deps.serviceNow, 'background');

  async function callerSysId(
    connection: string,
    resourceType: string,
    caller: string,
    signal: AbortSignal,
  ): Promise<string> {
    if (isSysId(caller)) return caller;
    const key = `${connection}\u0000${caller.toLowerCase()}`;
    const cached = callers.get(key);
    if (cached !== undefined) return cached;
    const user = await urgent(connection).findUser(caller, { fields: ['sys_id'], signal });
    if (user?.sys_id === undefined) throw new CallerNotFoundError(resourceType, caller);
    callers.set(key, user.sys_id);
    return user.sys_id;
  }

  function render({ connection, order, orderId }: Parameters<ProvisioningActivities['planProvisioning']>[0]) {
    const resourceType = order.ResourceType.Identifier;
    const mapping = refusePassword(resourceType, resolveMapping(mappings, resourceType, connection), order);
    return { mapping, content: renderTicketContent({ resourceType, mapping, order, connection, orderId }) };
  }

  /** The order's ticket, or undefined when it is gone or carries another correlation id now. */
  async function readOrderTicket(
    client: ServiceNowClient,
    { ticket, orderId }: OrderTicketRequest,
    signal: AbortSignal,
  ): Promise<{ snapshot?: TicketSnapshot; foreign?: TicketSnapshot }> {
    try {
      const snapshot = await client.getTicket(ticket.table, ticket.sysId, { signal });
      return belongsToOrder(snapshot, orderId) ? { snapshot } : { foreign: snapshot };
    } catch (error) {
      if (isNotFound(error)) return {};
      throw error;
    }
  }

  return {
    async planProvisioning(request): Promise<ProvisioningPlan> {
      return asActivity(async () => {
        // Rendering now surfaces template errors before anything is sent to ServiceNow, and fixes in history
        // what the ticket will say.
        const { mapping, content } = render(request);
        return {
          table: mapping.Table,
          synchronisable: !mapping.TicketSynchroIsNotAvailable,
          outcomes: settings.outcomes[mapping.Table],
          polling: settings.polling,
          reminders: settings.reminders,
          deadline: settings.deadline,
          content,
        };
      });
    },

    async openTicket(request): Promise<OpenedTicket> {
      return asActivity(() =>
        heartbeating(async (signal) => {
          const { connection, order, orderId } = request;
          // Planned content was rendered by planProvisioning, which refuses such orders; checked again here.
          const mapping = mappings.get(order.ResourceType.Identifier);
          if (request.content !== undefined && mapping !== undefined) {
            refusePassword(order.ResourceType.Identifier, mapping, order);
          }
          const content: TicketContent = request.content ?? render(request).content;
          const resourceType = order.ResourceType.Identifier;
          const caller = await callerSysId(connection, resourceType, content.caller, signal);
          const callerField = content.table === 'incident' ? 'caller_id' : 'requested_for';
          const created = await urgent(connection).createTicket(
            {
              table: content.table,
              correlationId: orderId,
              fields: { ...content.fields, [callerField]: caller },
              catalogItemSysId: content.catalogItem,
            },
            { signal },
          );
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
            state: clip(ticket.state, MAX_FIELD_LENGTH),
            stateLabel: clip(ticket.stateLabel, MAX_FIELD_LENGTH),
            created: created.created,
            duplicatesRetired: retired,
          };
        }),
      );
    },

    async checkTicket(request): Promise<TicketStatus> {
      return asActivity(() =>
        heartbeating(async (signal) => {
          const client = deps.serviceNow(request.connection).withPriority(checkPriority(request.trigger));
          const { snapshot, foreign } = await readOrderTicket(client, request, signal);
          if (snapshot !== undefined) return toStatus(snapshot);
          if (foreign === undefined || request.orderId === undefined) return { found: false };
          log.warn('The ticket no longer belongs to this order', { ticket: foreign.number });
          return { found: false, notFoundReason: notTheOrders(foreign, request.orderId) };
        }),
      );
    },

    async addTicketNote(request): Promise<void> {
      return asActivity(() =>
        heartbeating(async (signal) => {
          const client = background(request.connection);
          const { ticket, orderId } = request;
          if (orderId !== undefined) {
            const { snapshot, foreign } = await readOrderTicket(client, request, signal);
            if (foreign !== undefined) throw new TicketMismatchError(notTheOrders(foreign, orderId));
            if (snapshot === undefined) return;
          }
          await client.addNote(ticket.table, ticket.sysId, request.text, 'work_notes', { signal });
        }),
      );
    },

    async cancelTicket(request): Promise<CancelledTicket | undefined> {
      return asActivity(() =>
        heartbeating(async (signal) => {
          const client = urgent(request.connection);
          const { correlationId } = request;
          let current: TicketSnapshot | undefined;
          if (request.ticket !== undefined) {
            const read = await readOrderTicket(
              client,
              { ...request, ticket: request.ticket, orderId: correlationId },
              signal,
            );
            current = read.snapshot;
            if (read.foreign !== undefined)
              log.warn('Not canceling a ticket of another order', { ticket: read.foreign.number });
          }
          if (current === undefined) {
            // Never learnt, gone or no longer the order's: the order's own ticket, if any, carries its id.
            const tables = request.table === undefined ? TICKET_TABLES : [request.table];
            for (const table of tables) {
              current ??= (await client.findByCorrelationId(table, correlationId, { signal }))[0];
            }
          }
          if (current === undefined) return undefined;
          const ref = { table: current.table, sysId: current.sysId, number: current.number };
          if (!current.active) return { ...toStatus(current), ...ref, closedBeforeCancel: true };
          const cancelled = await client.cancelTicket(current.table, current.sysId, request.note, { signal });
          return { ...toStatus(cancelled), ...ref, closedBeforeCancel: false };
        }),
      );
    },

    async recordAssignment(transition) {
      return asMustHappenActivity(() =>
        heartbeating(async () => {
          const result = await deps.assignments.record(transition);
          // Only the first time: a retried activity recording it again is not another order in that state.
          if (result.applied) metrics.orderRecorded(transition.state);
          return result;
        }),
      );
    },
  };
}
