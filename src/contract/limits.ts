/**
 * The one set of size limits of the connector. Everything an order carries ends up somewhere with a limit of its
 * own (a search attribute, a ServiceNow field, an assignment store, a Temporal payload); the order schema
 * enforces these once, on arrival, so that nothing is refused later, after the ticket is open.
 *
 * Workflow code imports this module: no Node built-ins, no I/O.
 */

/** The workflow id is the ticket's correlation id, which ServiceNow cuts at 100 characters. */
export const MAX_ORDER_ID_LENGTH = 100;

/**
 * Ids and identifiers (assignment, owner, resource type, entity types, Identity Manager workflow instance): they
 * go to search attributes (Temporal allows 2 KB per value), the ledger and Identity Manager's API.
 */
export const MAX_ID_LENGTH = 200;

/** A connection identifier: a settings key, a search attribute and a part of the order id. */
export const MAX_CONNECTION_LENGTH = 64;

/**
 * The whole order as JSON, in UTF-8 bytes. Each run of the workflow carries the order (continue-as-new passes it
 * on), and Temporal refuses payloads over 2 MB: an order stays far below that, with room for what a run adds.
 */
export const MAX_ORDER_BYTES = 256 * 1024;

/** Why an order is revoked, and who asked. */
export const MAX_REASON_LENGTH = 1_000;
export const MAX_REQUESTED_BY_LENGTH = 200;

/** Short texts read from ServiceNow (state labels, close codes, names, dates). */
export const MAX_FIELD_LENGTH = 200;

/** Close notes are written by people and may be long; they are kept in workflow state and sent to the stores. */
export const MAX_NOTES_LENGTH = 4_000;

/** An error message from a peer (ServiceNow, Identity Manager) kept in workflow state or a failure. */
export const MAX_MESSAGE_LENGTH = 1_000;

/** `text` cut to `max` characters with an ellipsis, never splitting a surrogate pair. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

/** `clip` for optional values. */
export function clipOptional(text: string | undefined, max: number): string | undefined {
  return text === undefined ? undefined : clip(text, max);
}

/** Size of a string in UTF-8 bytes, without Node's Buffer (workflow code may call it). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && index + 1 < text.length) {
      bytes += 4;
      index += 1;
    } else bytes += 3;
  }
  return bytes;
}
