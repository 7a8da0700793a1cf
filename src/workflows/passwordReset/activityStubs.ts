import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { PasswordResetActivities } from '../../activities/passwordReset';
import { NON_RETRYABLE_PASSWORD_FAILURES } from '../../contract/passwordReset';

/**
 * Setting a password: one ServiceNow lookup and one PATCH per attempt (at most 30 s each), heartbeating like the
 * provisioning activities (src/workflows/provisioning/activityStubs.ts) so that an attempt lost with its worker
 * is retried within a minute. Transient failures (5xx, 429, network) retry for up to an hour; an unknown user,
 * a password the policy rejects and an account that may not set passwords do not: no retry can fix them.
 */
export const settingPassword: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '30 seconds',
  scheduleToCloseTimeout: '1 hour',
  retry: {
    initialInterval: '5 seconds',
    backoffCoefficient: 2,
    maximumInterval: '5 minutes',
    nonRetryableErrorTypes: [...NON_RETRYABLE_PASSWORD_FAILURES, 'UnknownConnection'],
  },
};

export const passwords = proxyActivities<PasswordResetActivities>(settingPassword);
