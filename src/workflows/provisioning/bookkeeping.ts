import { setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import type { ProvisioningInput } from '../../contract/order';
import type { TicketRef } from '../../contract/provisioning';
import {
  AssignmentId,
  ConnectionId,
  ProvisioningState,
  ResourceType,
  TicketNumber,
  TicketState,
} from '../../contract/searchAttributes';
import type { Decision } from './outcome';

/** The order's ids, searchable from its start. */
function pending({ connection, order }: ProvisioningInput): void {
  upsertSearchAttributes([
    { key: AssignmentId, value: order.AssignedResourceTypeId },
    { key: ResourceType, value: order.ResourceType.Identifier },
    { key: ConnectionId, value: connection },
    { key: ProvisioningState, value: 'Pending' },
  ]);
}

/**
 * What operators see of an order in the Web UI and in list queries: search attributes (ids and states only,
 * since they are stored unencrypted) and the current details line. Kept apart from the process so that the
 * process reads as the business does.
 */
export const bookkeeping = {
  arrived(input: ProvisioningInput): void {
    pending(input);
    const { order } = input;
    setCurrentDetails(`Preparing the ticket for ${order.ChangeType} ${order.ResourceType.Identifier}`);
  },

  /** An order that carries a password, on the password task queue: ids only, never the password. */
  settingPassword(input: ProvisioningInput): void {
    pending(input);
    const { order } = input;
    setCurrentDetails(`Setting the password for ${order.ChangeType} ${order.ResourceType.Identifier}`);
  },

  opened(ticket: TicketRef, stateLabel: string): void {
    upsertSearchAttributes([
      { key: TicketNumber, value: ticket.number },
      { key: TicketState, value: stateLabel },
      { key: ProvisioningState, value: 'Transmitted' },
    ]);
  },

  ticketStateChanged(stateLabel: string): void {
    upsertSearchAttributes([{ key: TicketState, value: stateLabel }]);
  },

  waiting(ticket: TicketRef, stateLabel: string | undefined, checks: number, nextCheckAt: number): void {
    setCurrentDetails(
      `Waiting for ${ticket.table} ${ticket.number} (${stateLabel ?? 'state unknown'}) to be closed or ` +
        `canceled. Checks made: ${checks}; next check ${isoTime(nextCheckAt)}.`,
    );
  },

  ended(decision: Decision, ticket: TicketRef | undefined, stateLabel: string | undefined): void {
    upsertSearchAttributes([
      { key: ProvisioningState, value: decision.provisioningState },
      ...(stateLabel === undefined ? [] : [{ key: TicketState, value: stateLabel }]),
    ]);
    setCurrentDetails(
      `${decision.provisioningState}: ${ticket === undefined ? 'no ticket' : `ticket ${ticket.number}`}` +
        ` ${decision.resolution.replace('-', ' ')}${decision.reason === undefined ? '' : ` (${decision.reason})`}`,
    );
  },
};

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}
