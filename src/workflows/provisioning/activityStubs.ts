import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { ProvisioningActivities } from '../../contract/provisioningActivities';

/**
 * Steps that must happen (open the ticket, cancel it, record the assignment) retry until they do: a ServiceNow
 * or Identity Manager outage delays the order, it does not lose it. Errors that no retry can fix are
 * non-retryable failures raised by the activities themselves.
 *
 * These activities heartbeat every few seconds while they talk to a peer: when a worker dies, the attempt it
 * held times out on its heartbeat and another worker retries it within a minute, instead of after the
 * start-to-close timeout. Ticket creation stays exactly-once across such retries (lookup by correlation id
 * before creating, convergence on the oldest ticket).
 */
export const mustHappen: ActivityOptions = {
  // Longer than every ServiceNow call of one attempt together (at most 30 s each).
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
};

/** Status reads and reminders are repeated by the schedule anyway: a few attempts, then wait for the next turn. */
export const bestEffort: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumAttempts: 3 },
};

/**
 * Planning reads settings and renders templates on the worker: no peer, so no heartbeat, and a short timeout so
 * that an attempt lost with its worker is retried within seconds.
 */
const planning: ActivityOptions = {
  ...mustHappen,
  startToCloseTimeout: '15 seconds',
  heartbeatTimeout: undefined,
};

export const required = proxyActivities<ProvisioningActivities>(mustHappen);
export const optional = proxyActivities<ProvisioningActivities>(bestEffort);
export const planned = proxyActivities<ProvisioningActivities>(planning);

/** The line the Web UI shows for one activity call. */
export function summarised(options: ActivityOptions, summary: string): ActivityOptions {
  return { ...options, summary };
}
