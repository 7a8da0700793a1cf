import { z } from 'zod';
import { answerJson } from '../http/exchange';
import type { HttpAnswer } from './httpExchange';
import type { RecordResult } from './store';

const acknowledgement = z.looseObject({ status: z.literal('applied') });
const alreadyThere = z.looseObject({ status: z.enum(['already-applied', 'superseded']) });

export type Acknowledgement =
  | { readonly kind: 'recorded'; readonly result: RecordResult }
  /** A success or conflict status without the body that proves it; `expected` names that body. */
  | { readonly kind: 'unproven'; readonly expected: string }
  /** Any other status: a refusal, reported as such. */
  | { readonly kind: 'refused' };

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

export function readAcknowledgement(answer: HttpAnswer): Acknowledgement {
  // A 204 has no body by definition (HTTP drops one): the status is the whole acknowledgement.
  if (answer.status === 204) return { kind: 'recorded', result: { applied: true } };
  if (answer.status >= 200 && answer.status < 300) {
    return acknowledgement.safeParse(answerJson(answer)).success
      ? { kind: 'recorded', result: { applied: true } }
      : { kind: 'unproven', expected: '{"status": "applied"} (or a 204)' };
  }
  if (answer.status === 409) {
    return alreadyThere.safeParse(answerJson(answer)).success
      ? { kind: 'recorded', result: { applied: false } }
      : { kind: 'unproven', expected: '{"status": "already-applied"} or {"status": "superseded"}' };
  }
  return { kind: 'refused' };
}
