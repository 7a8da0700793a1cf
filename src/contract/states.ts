/**
 * Identity Manager's provisioning states of an assignment, with their numeric codes. A manual order sits in
 * Transmitted while its ticket is open.
 */
export const PROVISIONING_STATE_CODES = {
  None: 0,
  Pending: 1,
  Transmitted: 2,
  Errored: 3,
  Verified: 4,
  AwaitingApproval: 5,
  Inactive: 6,
  Error: 7,
  Executed: 8,
} as const;

export type ProvisioningStateName = keyof typeof PROVISIONING_STATE_CODES;

/** The states this connector sets. */
export const CONNECTOR_STATES = ['Transmitted', 'Executed', 'Verified', 'Errored'] as const;
export type ConnectorState = (typeof CONNECTOR_STATES)[number];

/** What a closed ticket means for the assignment before the synchronisation flag is applied. */
export const TICKET_OUTCOMES = ['Executed', 'Errored'] as const;
export type TicketOutcome = (typeof TICKET_OUTCOMES)[number];
