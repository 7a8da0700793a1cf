import { PayloadDecryptionError, PayloadKeyMissingError } from './payloadCodec';

export type PayloadKeyError = PayloadKeyMissingError | PayloadDecryptionError;

/**
 * The payload key error behind an error, if any: the SDK may wrap what a codec throws (a query's or a result's
 * decoding), so the cause chain is followed, a few levels at most.
 */
export function payloadKeyErrorIn(error: unknown): PayloadKeyError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current instanceof Error; depth += 1) {
    if (current instanceof PayloadKeyMissingError || current instanceof PayloadDecryptionError)
      return current;
    current = current.cause;
  }
  return undefined;
}
