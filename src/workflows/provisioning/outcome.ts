import type { ConnectorState, TicketOutcome } from '../../contract/states';
import { CatalogTaskState } from '../../contract/tickets';
import type { ProvisioningPolicy, Resolution, TicketStatus } from '../../contract/provisioning';

export interface Decision {
  readonly provisioningState: ConnectorState;
  readonly resolution: Resolution;
  readonly reason?: string;
}

/** Closed tickets of resource types that are never synchronised are as good as seen: Verified. */
export function assignmentStateFor(outcome: TicketOutcome, policy: ProvisioningPolicy): ConnectorState {
  return outcome === 'Executed' && !policy.synchronisable ? 'Verified' : outcome;
}

/**
 * What a status read means for the assignment, or undefined while the ticket is still being worked. Catalog
 * requests are judged by `request_state`, incidents by `state`. A ticket that left the active states in a state
 * the mapping does not know ends as Errored with the reason, rather than being waited on forever.
 */
function outcomeOf(policy: ProvisioningPolicy, key: string | undefined): TicketOutcome | undefined {
  return key !== undefined && Object.hasOwn(policy.outcomes, key) ? policy.outcomes[key] : undefined;
}

/** Catalog requests whose `request_state` was left behind by a customisation are judged by their `state`. */
const CATALOG_STATE_OUTCOMES: Readonly<Record<string, TicketOutcome>> = {
  [CatalogTaskState.ClosedComplete]: 'Executed',
  [CatalogTaskState.ClosedIncomplete]: 'Errored',
  [CatalogTaskState.ClosedSkipped]: 'Errored',
};

function catalogStateOutcome(policy: ProvisioningPolicy, status: TicketStatus): TicketOutcome | undefined {
  if (policy.table !== 'sc_request' || status.state === undefined) return undefined;
  return Object.hasOwn(CATALOG_STATE_OUTCOMES, status.state)
    ? CATALOG_STATE_OUTCOMES[status.state]
    : undefined;
}

export function decide(status: TicketStatus, policy: ProvisioningPolicy): Decision | undefined {
  if (!status.found) {
    return {
      provisioningState: 'Errored',
      resolution: 'ticket-missing',
      reason:
        status.notFoundReason ??
        'the ticket no longer exists in ServiceNow (deleted, or no longer readable by the connector)',
    };
  }
  const key = policy.table === 'sc_request' ? status.requestState : status.state;
  const mapped = outcomeOf(policy, key) ?? catalogStateOutcome(policy, status);
  if (mapped !== undefined) {
    return {
      provisioningState: assignmentStateFor(mapped, policy),
      resolution: mapped === 'Executed' ? 'ticket-closed' : 'ticket-canceled',
    };
  }
  if (status.active === false) {
    return {
      provisioningState: 'Errored',
      resolution: 'ticket-canceled',
      reason: `the ticket was closed in state "${status.stateLabel ?? key}", which has no outcome under TicketConnector.Outcomes.${policy.table}`,
    };
  }
  return undefined;
}
