import {
  ActivityFailure,
  ApplicationFailure,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { isPasswordTaskQueue, PASSWORD_TASK_QUEUE_SUFFIX, passwordTaskQueue } from '../../contract/names';
import {
  checkPasswordResetInput,
  describePasswordUser,
  PasswordFailureTypes,
  type PasswordResetResult,
} from '../../contract/passwordReset';
import { ConnectionId } from '../../contract/searchAttributes';
import { passwords, settingPassword } from './activityStubs';

/**
 * Sets a ServiceNow user's password and `password_needs_reset` (README, "Password resets"). Runs only on a
 * password task queue, whose workers encrypt everything they write (input, results, failures): anywhere else it
 * refuses before anything is sent. Search attributes hold the connection only; the user is named in the
 * details line, which goes through the codec like the input.
 */
export async function passwordResetWorkflow(input: unknown): Promise<PasswordResetResult> {
  const { taskQueue } = workflowInfo();
  if (!isPasswordTaskQueue(taskQueue)) {
    throw ApplicationFailure.create({
      type: PasswordFailureTypes.wrongTaskQueue,
      message:
        `A password reset must run on a password task queue (a name ending in "${PASSWORD_TASK_QUEUE_SUFFIX}", ` +
        `whose workers encrypt it), not on "${taskQueue}": start it on "${passwordTaskQueue(taskQueue)}". ` +
        'Nothing was sent to ServiceNow.',
      nonRetryable: true,
    });
  }
  const checked = checkPasswordResetInput(input);
  if (!checked.ok) {
    throw ApplicationFailure.create({
      type: PasswordFailureTypes.invalidInput,
      message: `Invalid password reset: ${checked.problems.join('; ')}`,
      details: checked.problems,
      nonRetryable: true,
    });
  }
  const { connection, user } = checked.input;
  const who = describePasswordUser(user);
  upsertSearchAttributes([{ key: ConnectionId, value: connection }]);
  setCurrentDetails(`Setting the password of the user with ${who} (connection ${connection})`);
  try {
    const set = await passwords.setUserPassword.executeWithOptions(
      { ...settingPassword, summary: `Set the password of the user with ${who}` },
      [checked.input],
    );
    setCurrentDetails(`Password set for ${set.userName} (sys_id ${set.sysId}); password_needs_reset is true`);
    return { connection, sysId: set.sysId, userName: set.userName, passwordNeedsReset: true };
  } catch (error) {
    // The refusal's own type and words (which never hold the password), without the activity wrapper.
    const cause = error instanceof ActivityFailure ? error.cause : undefined;
    if (cause instanceof ApplicationFailure) {
      setCurrentDetails(`Password not set for the user with ${who}: ${cause.type ?? 'failed'}`);
      throw ApplicationFailure.create({
        type: cause.type ?? undefined,
        message: cause.message,
        nonRetryable: true,
      });
    }
    throw error;
  }
}
