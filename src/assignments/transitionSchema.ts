import { z } from 'zod';
import { CHANGE_TYPES, describeIssues } from '../contract/order';
import { CONNECTOR_STATES } from '../contract/states';
import type { AssignmentTransition } from './store';

/**
 * The shape of a transition, checked where one enters a store (an activity's argument is plain JSON that any
 * Temporal client may have sent) and where one is read back from the ledger's JSON column. Unknown keys are
 * dropped rather than refused: a field added by a newer workflow must not make a must-happen activity fail.
 */

const MAX_TEXT = 200;
/** Close notes are written by people and may be long, but neither store is a document store. */
const MAX_NOTES = 32_000;

const text = (max = MAX_TEXT) =>
  z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);

export const ticketSchema = z.object({
  table: text(),
  number: text(),
  sysId: text(),
  state: z.string().max(MAX_TEXT).optional(),
});

/** Detail is free text from people and ServiceNow: clipped rather than refused, since recording must happen. */
const clipped = (max: number) =>
  z.string().transform((value) => (value.length > max ? `${value.slice(0, max - 1)}…` : value));

export const detailSchema = z.object({
  closeCode: clipped(MAX_TEXT).optional(),
  closeNotes: clipped(MAX_NOTES).optional(),
  closedBy: clipped(MAX_TEXT).optional(),
  closedAt: clipped(MAX_TEXT).optional(),
  reason: clipped(MAX_NOTES).optional(),
});

export const transitionSchema = z.object({
  orderId: text(),
  assignmentId: text(),
  connection: text(),
  resourceType: text(),
  changeType: z.enum(CHANGE_TYPES, { error: 'must be "Added", "Modified" or "Deleted"' }),
  state: z.enum(CONNECTOR_STATES, { error: `must be one of ${CONNECTOR_STATES.join(', ')}` }),
  ticket: ticketSchema.optional(),
  detail: detailSchema.optional(),
  // Normalised to UTC so that stored times sort as text and compare across writers.
  at: z.iso
    .datetime({ offset: true, error: 'must be an ISO 8601 date and time' })
    .transform((value) => new Date(value).toISOString()),
});

export type TransitionCheck =
  | { readonly ok: true; readonly transition: AssignmentTransition }
  | { readonly ok: false; readonly problems: string[] };

export function checkTransition(value: unknown): TransitionCheck {
  const parsed = transitionSchema.safeParse(value);
  return parsed.success
    ? { ok: true, transition: parsed.data }
    : { ok: false, problems: describeIssues(parsed.error, 'transition') };
}
