import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes shown and filterable in the Web UI. Search attributes are stored unencrypted,
 * so they hold identifiers and states only: never secrets, never personal data.
 */
export const TicketNumber = defineSearchAttributeKey('TicketNumber', SearchAttributeType.KEYWORD);
export const TicketState = defineSearchAttributeKey('TicketState', SearchAttributeType.KEYWORD);
export const AssignmentId = defineSearchAttributeKey('AssignmentId', SearchAttributeType.KEYWORD);
export const ResourceType = defineSearchAttributeKey('ResourceType', SearchAttributeType.KEYWORD);
export const ConnectionId = defineSearchAttributeKey('ConnectionId', SearchAttributeType.KEYWORD);
export const ProvisioningState = defineSearchAttributeKey('ProvisioningState', SearchAttributeType.KEYWORD);

export const customSearchAttributes = [
  TicketNumber,
  TicketState,
  AssignmentId,
  ResourceType,
  ConnectionId,
  ProvisioningState,
] as const;
