import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { ConnectorActivities } from '../../activities';

/**
 * Steps that must happen (open the ticket, cancel it, record the assignment) retry until they do: a ServiceNow
 * or Identity Manager outage delays the order, it does not lose it. Errors that no retry can fix are
 * non-retryable failures raised by the activities themselves.
 */
export const mustHappen: ActivityOptions = {
  // Longer than every ServiceNow call of one attempt together (at most 30 s each): an attempt timed out by
  // Temporal must not still be creating a ticket while its retry creates another.
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
};

/** Status reads and reminders are repeated by the schedule anyway: a few attempts, then wait for the next turn. */
export const bestEffort: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumAttempts: 3 },
};

export const required = proxyActivities<ConnectorActivities>(mustHappen);
export const optional = proxyActivities<ConnectorActivities>(bestEffort);

/** The line the Web UI shows for one activity call. */
export function summarised(options: ActivityOptions, summary: string): ActivityOptions {
  return { ...options, summary };
}
