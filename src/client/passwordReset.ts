import { randomUUID } from 'node:crypto';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { AesGcmPayloadCodec } from '../codec/payloadCodec';
import { PASSWORD_RESET_WORKFLOW_TYPE, passwordTaskQueue } from '../contract/names';
import {
  checkPasswordResetInput,
  type PasswordResetInput,
  type PasswordResetResult,
  type PasswordUser,
} from '../contract/passwordReset';
import type { passwordResetWorkflow } from '../workflows';

/** The input is not a valid password reset: names the fields and rules, never the password. */
export class InvalidPasswordResetError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid password reset: ${problems.join('; ')}`);
    this.name = 'InvalidPasswordResetError';
  }
}

/** The client would send the password in clear: it was not built with the passwords data converter. */
export class UnencryptedClientError extends Error {
  constructor() {
    super(
      'A password reset needs a Temporal client whose data converter encrypts payloads ' +
        '(passwordsDataConverter of src/platform/encryption.ts, or the codec of README "Encrypted payloads"); ' +
        'nothing was sent',
    );
    this.name = 'UnencryptedClientError';
  }
}

/** The workflow ended without setting the password; `type` says why (PasswordFailureTypes). */
export class PasswordResetFailedError extends Error {
  constructor(
    readonly workflowId: string,
    readonly type: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'PasswordResetFailedError';
  }
}

export interface ResetPasswordOptions {
  /** The configured task queue; the reset runs on its password queue (`<taskQueue>-passwords`). */
  readonly taskQueue: string;
  /** Makes the start idempotent: the same request id attaches to the same run. Default: a random UUID. */
  readonly requestId?: string;
  /** Wait for the outcome (default true); false returns once the server accepted the start. */
  readonly wait?: boolean;
}

export interface ResetPasswordOutcome {
  readonly workflowId: string;
  /** False when a run with this request id existed: it was attached to. */
  readonly started: boolean;
  /** Present when waited for. */
  readonly result?: PasswordResetResult;
}

/** Digest characters in an id: enough to tell users apart, short enough to read. */
const USER_DIGEST_LENGTH = 16;

/**
 * `password-reset:<connection>:<user digest>:<request id>`. Workflow ids are stored and listed in clear, so the
 * user is named by a digest under the client's active payload key (see keyedDigest), never by sys_id or name:
 * the same request for the same user finds its run, and a request id reused for another user starts another.
 */
export function passwordResetWorkflowId(
  connection: string,
  user: PasswordUser,
  requestId: string,
  codec: AesGcmPayloadCodec,
): string {
  const who = 'sysId' in user ? `sys_id:${user.sysId}` : `user_name:${user.userName.toLowerCase()}`;
  const digest = codec.digest('snow-ticket password reset user', who);
  if (digest === undefined) throw new UnencryptedClientError();
  return `password-reset:${connection}:${digest.slice(0, USER_DIGEST_LENGTH)}:${requestId}`;
}

/** The connector's codec when this client seals every payload it writes with it; undefined otherwise. */
function encryptingCodec(client: Client): AesGcmPayloadCodec | undefined {
  const codecs = client.options.dataConverter.payloadCodecs ?? [];
  return codecs.find(
    (codec): codec is AesGcmPayloadCodec => codec instanceof AesGcmPayloadCodec && codec.options.encrypt,
  );
}

/** Whether every payload this client writes is sealed by the connector's codec. */
export function encryptsPayloads(client: Client): boolean {
  return encryptingCodec(client) !== undefined;
}

/**
 * Starts a password reset on the password task queue, and by default waits for its outcome. The client must be
 * built with the passwords data converter (`passwordsDataConverter`): the password travels only encrypted.
 * Failures of the run become PasswordResetFailedError, whose `type` tells an unknown user
 * (`UnknownUser`), a password rejected by policy (`PasswordRejected`) and an account that may not set passwords
 * (`PasswordNotAllowed`) apart.
 */
export async function resetPassword(
  client: Client,
  value: unknown,
  options: ResetPasswordOptions,
): Promise<ResetPasswordOutcome> {
  const codec = encryptingCodec(client);
  if (codec === undefined) throw new UnencryptedClientError();
  const checked = checkPasswordResetInput(value);
  if (!checked.ok) throw new InvalidPasswordResetError(checked.problems);
  const input: PasswordResetInput = checked.input;
  const workflowId = passwordResetWorkflowId(
    input.connection,
    input.user,
    options.requestId ?? randomUUID(),
    codec,
  );
  let handle: WorkflowHandle<typeof passwordResetWorkflow>;
  let started = true;
  try {
    handle = await client.workflow.start<typeof passwordResetWorkflow>(PASSWORD_RESET_WORKFLOW_TYPE, {
      taskQueue: passwordTaskQueue(options.taskQueue),
      workflowId,
      args: [input],
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      staticSummary: `Password reset of ${'sysId' in input.user ? `sys_id ${input.user.sysId}` : input.user.userName} (connection ${input.connection})`,
    });
  } catch (error) {
    // The request id was used before (running or ended): that run's outcome is this request's answer.
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    handle = client.workflow.getHandle<typeof passwordResetWorkflow>(workflowId);
    started = false;
  }
  if (options.wait === false) return { workflowId, started };
  try {
    return { workflowId, started, result: await handle.result() };
  } catch (error) {
    if (!(error instanceof WorkflowFailedError)) throw error;
    const cause = error.cause;
    if (cause instanceof ApplicationFailure) {
      throw new PasswordResetFailedError(workflowId, cause.type ?? undefined, cause.message);
    }
    throw new PasswordResetFailedError(workflowId, undefined, cause?.message ?? error.message);
  }
}
