import { z } from 'zod';
import { answerJson, type HttpAnswer } from './httpExchange';
import type { RecordResult } from './store';

/**
 * What Identity Manager must answer to a transition for the store to count it as recorded. Anything else (a
 * gateway's sign-in page with status 200, a 409 about something else, an empty 200) is not proof that Identity
 * Manager holds the transition, and is reported as a retryable failure instead.
 *
 * - `2xx` with a JSON body `{"status": "applied"}` (other fields are ignored), or `204 No Content`: recorded
 *   now, `applied: true`.
 * - `409 Conflict` with a JSON body `{"status": "already-applied"}`: this transition (same `Idempotency-Key`) was
 *   recorded before, `applied: false`.
 * - `409 Conflict` with a JSON body `{"status": "superseded"}`: the order already holds a final state, so this
 *   Transmitted is ignored (Identity Manager never moves an order backwards), `applied: false`.
 *
 * The 409 bodies may carry a `message` too; only `status` is read.
 */
export const ACKNOWLEDGED = 'applied';
export const ALREADY_THERE = ['already-applied', 'superseded'] as const;

const acknowledgement = z.looseObject({ status: z.literal(ACKNOWLEDGED) });
const alreadyThere = z.looseObject({ status: z.enum(ALREADY_THERE) });

/** The result the answer proves, or undefined when it proves nothing. */
export function readAcknowledgement(answer: HttpAnswer): RecordResult | undefined {
  // A 204 has no body by definition (HTTP drops one): the status is the whole acknowledgement.
  if (answer.status === 204) return { applied: true };
  if (answer.status >= 200 && answer.status < 300) {
    return acknowledgement.safeParse(answerJson(answer)).success ? { applied: true } : undefined;
  }
  if (answer.status === 409) {
    return alreadyThere.safeParse(answerJson(answer)).success ? { applied: false } : undefined;
  }
  return undefined;
}
