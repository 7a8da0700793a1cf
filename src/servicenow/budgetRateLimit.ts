import { MAX_FIELD_LENGTH } from '../contract/limits';
import { MAX_RETRY_AFTER_MS, parseRetryAfter } from '../http/retryAfter';
import type { RateLimitPause } from './budget';

type Headers = Readonly<Record<string, string | undefined>>;

/**
 * What a 429 says about when to ask again: `Retry-After` (seconds or a date) first, else `X-RateLimit-Reset`
 * (epoch seconds, when the rule's window ends); no delay at all for a bare 429 (a full request queue), which the
 * budget backs off from. `X-RateLimit-Rule` and `X-RateLimit-Limit` name the rule for the operator.
 */
export function rateLimitOf(
  headers: Headers,
  now: Date,
): Omit<RateLimitPause, 'delayMs'> & { delayMs?: number } {
  const delayMs =
    parseRetryAfter(headers['retry-after'], now) ?? resetDelay(headers['x-ratelimit-reset'], now);
  const limit = headers['x-ratelimit-limit']?.trim();
  const rule = headers['x-ratelimit-rule']?.trim();
  return {
    ...(delayMs === undefined ? {} : { delayMs }),
    ...(limit !== undefined && /^\d{1,12}$/.test(limit) ? { limit: Number(limit) } : {}),
    // A sys_id; anything else the peer put there is not worth quoting at length.
    ...(rule !== undefined && rule !== '' ? { rule: rule.slice(0, MAX_FIELD_LENGTH) } : {}),
  };
}

/** `X-RateLimit-Reset` in epoch seconds, as a delay from now. */
function resetDelay(value: string | undefined, now: Date): number | undefined {
  const text = value?.trim() ?? '';
  if (!/^\d{1,12}(\.\d+)?$/.test(text)) return undefined;
  return Math.min(Math.max(0, Math.ceil(Number(text) * 1000 - now.getTime())), MAX_RETRY_AFTER_MS);
}

/** How a rate-limit refusal reads in an error: the rule that matched and what it allows, when ServiceNow said. */
export function describeRateLimit(pause: Omit<RateLimitPause, 'delayMs'>): string {
  const rule = pause.rule === undefined ? 'a rate limit' : `rate-limit rule ${pause.rule}`;
  const limit = pause.limit === undefined ? '' : ` (${pause.limit} requests per hour)`;
  return `ServiceNow applied ${rule}${limit}; every call of this connection waits until it lifts`;
}
