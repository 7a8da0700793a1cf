import { ActivityCancellationType, proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { ConnectorActivities } from '../../activities';

/** Reading the settings: quick, and retried until the worker can (a bad connection or table is non-retryable). */
export const planOptions: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
};

/**
 * One table. Long (a million memberships take a while, and a rate-limited instance longer), so the heartbeat
 * timeout is what notices a dead worker: the retry then resumes from the last heartbeat instead of starting the
 * table over. The activity heartbeats at least every 10 s, whatever a page takes; the server keeps a heartbeat
 * every 24 s at most (80% of the timeout), which is how fresh progress displays can be. Retries never stop
 * (an outage delays the export, it does not fail it); errors no retry can fix are non-retryable.
 * Cancelling waits for the activity to remove its temporary file.
 */
export const tableOptions: ActivityOptions = {
  startToCloseTimeout: '6 hours',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes' },
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
};

export const { planExport } = proxyActivities<ConnectorActivities>(planOptions);
export const { exportTable } = proxyActivities<ConnectorActivities>(tableOptions);
