import { z } from 'zod';
import {
  clip,
  MAX_FIELD_LENGTH,
  MAX_ID_LENGTH,
  MAX_NOTES_LENGTH,
  MAX_ORDER_ID_LENGTH,
} from '../contract/limits';
import { CHANGE_TYPES, describeIssues } from '../contract/order';
import { CONNECTOR_STATES } from '../contract/states';
import type { AssignmentTransition } from './store';

/**
 * The shape of a transition, checked where one enters a store (an activity's argument is plain JSON that any
 * Temporal client may have sent) and where one is read back from the ledger's JSON column. Unknown keys are
 * dropped rather than refused: a field added by a newer workflow must not make a must-happen activity fail.
 *
 * The limits are the order schema's (`src/contract/limits.ts`), so that whatever an accepted order carries
 * (its id, assignment id, connection, resource type) is accepted here too: a refusal at this point would come
 * after the ticket was opened, and leave the order retrying until an operator steps in.
 */

const text = (max: number) =>
  z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);

/** Free text from people and ServiceNow: clipped rather than refused, since recording must happen. */
const clipped = (max: number) => z.string().transform((value) => clip(value, max));

interface TransitionLimits {
  readonly orderId: number;
  readonly id: number;
  readonly connection: number;
  readonly field: number;
  readonly notes: number;
}

/** What enters a store now: the order schema's limits. */
const ACCEPTED: TransitionLimits = {
  orderId: MAX_ORDER_ID_LENGTH,
  id: MAX_ID_LENGTH,
  // Wider than the order schema's 64: orders of the first release (up to 200) may still be open.
  connection: MAX_ID_LENGTH,
  field: MAX_FIELD_LENGTH,
  notes: MAX_NOTES_LENGTH,
};

/**
 * What the ledger reads back: the widest any release wrote (the first one allowed 200 characters for every id
 * and 32,000 for notes), so that a file written before the limits were shared is not taken for a damaged one.
 */
const STORED: TransitionLimits = { orderId: 200, id: 200, connection: 200, field: 200, notes: 32_000 };

function ticketShape(limits: TransitionLimits) {
  return z.object({
    table: text(limits.field),
    number: text(limits.field),
    sysId: text(limits.field),
    /** A state label as ServiceNow shows it: informative only. */
    state: clipped(limits.field).optional(),
  });
}

function detailShape(limits: TransitionLimits) {
  return z.object({
    closeCode: clipped(limits.field).optional(),
    closeNotes: clipped(limits.notes).optional(),
    closedBy: clipped(limits.field).optional(),
    closedAt: clipped(limits.field).optional(),
    reason: clipped(limits.notes).optional(),
  });
}

function transitionShape(limits: TransitionLimits) {
  return z.object({
    orderId: text(limits.orderId),
    assignmentId: text(limits.id),
    connection: text(limits.connection),
    resourceType: text(limits.id),
    changeType: z.enum(CHANGE_TYPES, { error: 'must be "Added", "Modified" or "Deleted"' }),
    state: z.enum(CONNECTOR_STATES, { error: `must be one of ${CONNECTOR_STATES.join(', ')}` }),
    ticket: ticketShape(limits).optional(),
    detail: detailShape(limits).optional(),
    // Normalised to UTC so that stored times sort as text and compare across writers.
    at: z.iso
      .datetime({ offset: true, error: 'must be an ISO 8601 date and time' })
      .transform((value) => new Date(value).toISOString()),
  });
}

/** A transition entering a store. */
export const transitionSchema = transitionShape(ACCEPTED);

/** A transition, and the detail of an assignment row, as the ledger file holds them. */
export const storedTransitionSchema = transitionShape(STORED);
export const storedDetailSchema = detailShape(STORED);

export type TransitionCheck =
  | { readonly ok: true; readonly transition: AssignmentTransition }
  | { readonly ok: false; readonly problems: string[] };

export function checkTransition(value: unknown): TransitionCheck {
  const parsed = transitionSchema.safeParse(value);
  return parsed.success
    ? { ok: true, transition: parsed.data }
    : { ok: false, problems: describeIssues(parsed.error, 'transition') };
}
