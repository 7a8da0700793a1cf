import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import {
  InvalidPasswordResetError,
  PasswordResetFailedError,
  resetPassword,
  UnencryptedClientError,
} from '../../../src/client/passwordReset';
import { PASSWORD_RESET_WORKFLOW_TYPE } from '../../../src/contract/names';
import { basicAuthorization } from '../../helpers/simulator';
import { createTimeSkippingEnv } from '../../helpers/temporal';
import { CONNECTION } from '../../helpers/provisioning';
import { rawHistoryText } from '../../helpers/historyText';
import { captureStderr } from '../../helpers/logCapture';
import { expectNoSecret } from '../../helpers/secretScan';
import { PLAIN_ACCOUNT, PLAIN_CONNECTION, usePasswordStack } from './stack';

/** Characters that every encoding writes differently: quote, ampersand, slash, plus, percent, non-ASCII. */
const PASSWORD = 'Nouveau-"mot"&de/passe+1%é';
const OTHER_PASSWORD = 'Second-Pa55&word';
/** Too short for the simulator's policy. */
const WEAK_PASSWORD = 'letters-only-first';

describe('password reset workflow (time-skipping server, simulator over HTTP)', () => {
  const stack = usePasswordStack(createTimeSkippingEnv, 'pw-reset');
  const log = captureStderr();
  const workflowIds: string[] = [];
  after(() => log.stop());

  async function newUser(userName: string): Promise<string> {
    return (await stack.create('sys_user', { user_name: userName, first_name: 'Pat' })).sys_id ?? '';
  }

  async function userRow(sysId: string): Promise<Record<string, string>> {
    const response = await stack.call(
      `/api/now/table/sys_user/${sysId}?sysparm_fields=user_name,password_needs_reset,user_password`,
    );
    return ((await response.json()) as { result: Record<string, string> }).result;
  }

  /** Whether `password` logs in once the reset flag is cleared (the flag refuses every login). */
  async function passwordWorks(sysId: string, userName: string, password: string): Promise<boolean> {
    await stack.call(`/api/now/table/sys_user/${sysId}`, {
      method: 'PATCH',
      body: { password_needs_reset: 'false' },
    });
    const response = await fetch(`${stack.sim.tableApiUrl}/sys_user?sysparm_limit=1`, {
      headers: { authorization: basicAuthorization(userName, password) },
    });
    return response.status === 200;
  }

  async function refusal(action: () => Promise<unknown>): Promise<PasswordResetFailedError> {
    try {
      await action();
    } catch (error) {
      assert.ok(error instanceof PasswordResetFailedError, `expected a refusal, got ${String(error)}`);
      workflowIds.push(error.workflowId);
      return error;
    }
    assert.fail('expected the reset to fail');
  }

  const reset = async (input: Record<string, unknown>, requestId?: string) => {
    const outcome = await resetPassword(stack.client, input, {
      taskQueue: stack.taskQueue,
      ...(requestId === undefined ? {} : { requestId }),
    });
    workflowIds.push(outcome.workflowId);
    return outcome;
  };

  test('sets the password by user_name with password_needs_reset; setting it twice is harmless', async () => {
    const sysId = await newUser('pw.alice');
    const first = await reset({ connection: CONNECTION, user: { userName: 'pw.alice' }, password: PASSWORD });
    assert.equal(first.started, true);
    assert.deepEqual(first.result, {
      connection: CONNECTION,
      sysId,
      userName: 'pw.alice',
      passwordNeedsReset: true,
    });
    assert.match(first.workflowId, /^password-reset:Sim:[0-9a-f]{16}:[0-9a-f-]{36}$/);
    const row = await userRow(sysId);
    assert.equal(row.password_needs_reset, 'true');
    assert.equal(row.user_password, '', 'never read back');

    const again = await reset({ connection: CONNECTION, user: { sysId }, password: PASSWORD }, 'again-1');
    assert.equal(again.result?.userName, 'pw.alice');
    assert.equal((await userRow(sysId)).password_needs_reset, 'true');
    assert.equal(await passwordWorks(sysId, 'pw.alice', PASSWORD), true, 'the password was stored usable');
  });

  test('the same request id attaches to the first run instead of setting another password', async () => {
    const sysId = await newUser('pw.same');
    const first = await reset({ connection: CONNECTION, user: { sysId }, password: PASSWORD }, 'req-7');
    const second = await reset(
      { connection: CONNECTION, user: { sysId }, password: OTHER_PASSWORD },
      'req-7',
    );
    assert.equal(second.workflowId, first.workflowId);
    assert.equal(second.started, false);
    assert.equal(await passwordWorks(sysId, 'pw.same', PASSWORD), true);
  });

  test('a request id used for another user starts a reset of that user', async () => {
    const sysId = await newUser('pw.first');
    const otherSysId = await newUser('pw.second');
    const first = await reset({ connection: CONNECTION, user: { sysId }, password: PASSWORD }, 'req-8');
    const other = await reset(
      { connection: CONNECTION, user: { sysId: otherSysId }, password: OTHER_PASSWORD },
      'req-8',
    );
    assert.notEqual(other.workflowId, first.workflowId);
    assert.equal(other.started, true);
    assert.equal(await passwordWorks(otherSysId, 'pw.second', OTHER_PASSWORD), true);
  });

  test('an unknown user is a non-retryable UnknownUser failure', async () => {
    const byName = await refusal(() =>
      reset({ connection: CONNECTION, user: { userName: 'pw.nobody' }, password: PASSWORD }),
    );
    assert.equal(byName.type, 'UnknownUser');
    assert.match(byName.message, /No ServiceNow user with user_name pw\.nobody/);
    const bySysId = await refusal(() =>
      reset({ connection: CONNECTION, user: { sysId: 'f'.repeat(32) }, password: PASSWORD }),
    );
    assert.equal(bySysId.type, 'UnknownUser');
  });

  test("a password the instance's policy rejects is a non-retryable PasswordRejected failure", async () => {
    const sysId = await newUser('pw.bob');
    const rejected = await refusal(() =>
      reset({ connection: CONNECTION, user: { sysId }, password: WEAK_PASSWORD }),
    );
    assert.equal(rejected.type, 'PasswordRejected');
    assert.match(rejected.message, /rejected the new password of user pw\.bob .*password policy/);
    expectNoSecret(rejected.message, [WEAK_PASSWORD], 'the refusal');
    assert.equal((await userRow(sysId)).password_needs_reset, 'false');
  });

  test('an account without the right is PasswordNotAllowed, whether refused (403) or silently skipped (200)', async () => {
    const sysId = await newUser('pw.carol');
    const refused = await refusal(() =>
      reset({ connection: PLAIN_CONNECTION, user: { sysId }, password: PASSWORD }),
    );
    assert.equal(refused.type, 'PasswordNotAllowed');
    assert.match(refused.message, /may not set the password of user pw\.carol .*HTTP 403/);
    // Its own record: ServiceNow answers 200 and skips the fields a field ACL protects.
    const skipped = await refusal(() =>
      reset({ connection: PLAIN_CONNECTION, user: { userName: PLAIN_ACCOUNT.login }, password: PASSWORD }),
    );
    assert.equal(skipped.type, 'PasswordNotAllowed');
    assert.match(skipped.message, /did not set password_needs_reset/);
  });

  test('a transient failure (throttled twice) is retried until the password is set', async () => {
    const sysId = await newUser('pw.dave');
    const faults = await stack.admin('/faults', {
      method: 'PUT',
      body: { burst429: 2, retryAfterSeconds: 1 },
    });
    assert.equal(faults.status, 200);
    const outcome = await reset({ connection: CONNECTION, user: { sysId }, password: PASSWORD });
    assert.equal(outcome.result?.sysId, sysId);
    const history = await stack.env.client.workflow.getHandle(outcome.workflowId).fetchHistory();
    const attempts = (history.events ?? []).flatMap((event) => {
      const started = event.activityTaskStartedEventAttributes;
      return started ? [started.attempt ?? 0] : [];
    });
    assert.ok(Math.max(...attempts) >= 2, `retried (attempts: ${attempts.join(', ')})`);
  });

  test('on a task queue that does not encrypt it refuses before anything is sent', async () => {
    const sysId = await newUser('pw.erin');
    const handle = await stack.client.workflow.start(PASSWORD_RESET_WORKFLOW_TYPE, {
      taskQueue: stack.taskQueue,
      workflowId: `password-reset:wrong-queue:${sysId}`,
      args: [{ connection: CONNECTION, user: { sysId }, password: PASSWORD }],
    });
    workflowIds.push(handle.workflowId);
    const error = await handle.result().then(
      () => assert.fail('expected a refusal'),
      (failed: unknown) => failed,
    );
    assert.ok(error instanceof WorkflowFailedError);
    assert.ok(error.cause instanceof ApplicationFailure);
    assert.equal(error.cause.type, 'PasswordOnPlainTaskQueue');
    assert.match(error.cause.message, /start it on "pw-reset-passwords"/);
    assert.equal((await userRow(sysId)).password_needs_reset, 'false', 'nothing was sent');
  });

  test('invalid input is refused with field paths and never the password', async () => {
    const refused = await assert.rejects(
      reset({ connection: CONNECTION, user: { sysId: 'x', userName: 'y' }, password: PASSWORD }),
      (error: unknown) => {
        assert.ok(error instanceof InvalidPasswordResetError);
        assert.match(error.message, /^Invalid password reset: user: /);
        expectNoSecret(error.message, [PASSWORD], 'the refusal');
        return true;
      },
    );
    assert.equal(refused, undefined);
  });

  test('control: the scan finds a password that a client without the codec sent in clear', async () => {
    const control = 'Control-Pa55&word';
    const handle = await stack.env.client.workflow.start(PASSWORD_RESET_WORKFLOW_TYPE, {
      taskQueue: stack.taskQueue,
      workflowId: 'password-reset:control',
      args: [{ connection: CONNECTION, user: { userName: 'pw.control' }, password: control }],
    });
    await handle.result().catch(() => undefined);
    const text = rawHistoryText(await handle.fetchHistory());
    assert.throws(() => expectNoSecret(text, [control]), /holds secret/);
  });

  test('a client without the encrypting codec is refused before it starts anything', async () => {
    await assert.rejects(
      resetPassword(
        stack.env.client,
        { connection: CONNECTION, user: { userName: 'x' }, password: PASSWORD },
        {
          taskQueue: stack.taskQueue,
        },
      ),
      UnencryptedClientError,
    );
  });

  test('no run left the password readable: raw histories, details and the worker log', async () => {
    assert.ok(workflowIds.length >= 8, `runs scanned: ${workflowIds.length}`);
    for (const workflowId of new Set(workflowIds)) {
      // A client without the codec sees what the server stores, as the Web UI without the codec does.
      const handle = stack.env.client.workflow.getHandle(workflowId);
      const text = rawHistoryText(await handle.fetchHistory());
      expectNoSecret(text, [PASSWORD, OTHER_PASSWORD, WEAK_PASSWORD], `the history of ${workflowId}`);
      const description = await handle.describe();
      expectNoSecret(
        JSON.stringify(description.searchAttributes) + JSON.stringify(description.raw.workflowExecutionInfo),
        [PASSWORD, OTHER_PASSWORD],
        `the description of ${workflowId}`,
      );
    }
    assert.match(log.text(), /ServiceNow\.http/, 'the worker log was captured (the throttled attempts)');
    expectNoSecret(log.text(), [PASSWORD, OTHER_PASSWORD, WEAK_PASSWORD], 'the worker log');
  });
});
