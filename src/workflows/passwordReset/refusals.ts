import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/workflow';
import { PasswordFailureTypes } from '../../contract/passwordReset';

/** How an order's reason names each refusal (the assignment's Errored record says which it was). */
const LABELS: Readonly<Record<string, string>> = {
  [PasswordFailureTypes.unknownUser]: 'unknown user',
  [PasswordFailureTypes.rejected]: 'rejected by the password policy',
  [PasswordFailureTypes.notAllowed]: 'not allowed',
  [PasswordFailureTypes.noPassword]: 'no password in the order',
};

/** `unknown user`, `rejected by the password policy`, `not allowed`, ... for a failed password activity. */
export function passwordFailureLabel(error: unknown): string {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof TimeoutFailure) return 'ServiceNow did not answer in time';
  if (cause instanceof ApplicationFailure) return LABELS[cause.type ?? ''] ?? cause.type ?? 'failed';
  return 'failed';
}
