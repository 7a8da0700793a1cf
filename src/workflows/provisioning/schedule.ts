import type { ProvisioningPolicy } from '../../contract/provisioning';

const MIN_DELAY_MS = 1_000;

/**
 * The wait before status check number `step` (0 for the first): grows from FirstCheckAfter by the backoff
 * coefficient up to MaxInterval, then is spread by the jitter so that thousands of tickets opened together do
 * not all hit ServiceNow in the same second. `random` is the workflow's deterministic Math.random().
 */
export function checkDelay(polling: ProvisioningPolicy['polling'], step: number, random: number): number {
  const grown = polling.firstCheckAfterMs * Math.pow(polling.backoffCoefficient, step);
  const base = Math.min(grown, polling.maxIntervalMs);
  const spread = 1 + polling.jitter * (2 * random - 1);
  return Math.max(MIN_DELAY_MS, Math.round(base * spread));
}

/** When reminder number `sent` (0 for the first) is due, or undefined when no (further) reminder is set. */
export function reminderDueAt(
  reminders: ProvisioningPolicy['reminders'],
  openedAt: number,
  sent: number,
): number | undefined {
  if (reminders.firstAfterMs === undefined) return undefined;
  if (sent === 0) return openedAt + reminders.firstAfterMs;
  if (reminders.everyMs === undefined) return undefined;
  return openedAt + reminders.firstAfterMs + sent * reminders.everyMs;
}
