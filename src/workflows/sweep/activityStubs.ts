import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { ConnectorActivities } from '../../activities';

/** Reading the worker's settings: quick, retried until a worker answers. */
export const planOptions: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
};

/**
 * One sweep. Usually a call or two; after an outage, many pages. The heartbeat timeout is what notices a dead
 * worker: the retry resumes from the last page the dead attempt heartbeat, not from the first. Retries never stop
 * (an outage delays the sweep, it does not end it); a sweep that fails for good is reported by the workflow, which
 * sweeps again at the next interval.
 */
export const sweepOptions: ActivityOptions = {
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
};

export const { planTicketSweep } = proxyActivities<ConnectorActivities>(planOptions);
export const { sweepTicketChanges } = proxyActivities<ConnectorActivities>(sweepOptions);
