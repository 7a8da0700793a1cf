/** A server asking for more than a day is treated as asking for a day: the caller re-plans by then anyway. */
export const MAX_RETRY_AFTER_MS = 24 * 60 * 60 * 1000;
const HTTP_DATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/** `Retry-After` is either delta-seconds or an HTTP date (IMF-fixdate); anything else is ignored. */
export function parseRetryAfter(value: string | undefined, now: Date): number | undefined {
  const text = value?.trim() ?? '';
  let delayMs: number | undefined;
  if (/^\d+$/.test(text)) delayMs = Number(text) * 1000;
  else if (HTTP_DATE.test(text)) delayMs = Math.max(0, Date.parse(text) - now.getTime());
  return delayMs === undefined ? undefined : Math.min(delayMs, MAX_RETRY_AFTER_MS);
}
