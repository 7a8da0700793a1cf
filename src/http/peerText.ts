import { clip, MAX_MESSAGE_LENGTH } from '../contract/limits';
import type { SecretRedactor } from './redaction';

/**
 * Text a peer wrote (an error message, a detail, an error description, an excerpt of a page) made fit for an
 * error, a log or workflow state: every known secret masked, control characters (which could forge log lines)
 * folded to spaces, and cut to `max` characters, so that a 3 MB message gives a short failure. Redacted before it
 * is cut, so that no cut-off secret prefix survives. Undefined when nothing is left.
 */
export function peerText(
  text: string | undefined,
  redactor: SecretRedactor,
  max: number = MAX_MESSAGE_LENGTH,
): string | undefined {
  if (text === undefined) return undefined;
  const clean = redactor
    .redact(text)
    .replace(/\p{Cc}+/gu, ' ')
    .trim();
  return clean === '' ? undefined : clip(clean, max);
}
