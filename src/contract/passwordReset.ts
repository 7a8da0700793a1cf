import { z } from 'zod';
import { MAX_CONNECTION_LENGTH, MAX_ID_LENGTH } from './limits';
import { CONNECTION_IDENTIFIER, describeIssues } from './order';

/**
 * The password reset contract: what Identity Manager's client (or `snow-ticket password reset`) starts on the
 * password task queue (`<TaskQueue>-passwords`), whose payloads are always encrypted (README, "Password
 * resets"). The input is untrusted: it is checked here, with messages that never quote the password.
 *
 * Workflow code imports this module: no Node built-ins, no I/O.
 */

/** The longest password accepted: far beyond any policy, short enough that nothing downstream chokes on it. */
export const MAX_PASSWORD_LENGTH = 1_024;

const SYS_ID = /^[0-9a-f]{32}$/;

/** The ServiceNow user whose password is set: by sys_id, or by user_name (exactly one of them). */
export type PasswordUser = { readonly sysId: string } | { readonly userName: string };

const userSchema = z.union(
  [
    z.strictObject({
      sysId: z.string().regex(SYS_ID, 'must be a sys_user sys_id (32 lowercase hex characters)'),
    }),
    z.strictObject({
      userName: z
        .string()
        .trim()
        .min(1, 'must not be empty (the sys_user user_name)')
        .max(MAX_ID_LENGTH, `must be at most ${MAX_ID_LENGTH} characters`),
    }),
  ],
  { error: 'must be {"sysId": "<32 hex>"} or {"userName": "<user_name>"}, exactly one of them' },
);

export const passwordResetInputSchema = z.strictObject({
  connection: z
    .string({ error: 'must be a connection identifier (a key of Connections)' })
    .max(MAX_CONNECTION_LENGTH, `must be at most ${MAX_CONNECTION_LENGTH} characters`)
    .regex(
      CONNECTION_IDENTIFIER,
      'must be a connection identifier (a letter, then letters, digits, "." or "-")',
    ),
  user: userSchema,
  // The value is never quoted: zod's messages for these checks name only the rule.
  password: z
    .string({ error: 'must be a string (the new password)' })
    .min(1, 'must not be empty')
    .max(MAX_PASSWORD_LENGTH, `must be at most ${MAX_PASSWORD_LENGTH} characters`),
});

export type PasswordResetInput = z.output<typeof passwordResetInputSchema>;

export interface PasswordResetResult {
  readonly connection: string;
  readonly sysId: string;
  readonly userName: string;
  /** Always true: a reset that could not set it fails instead. */
  readonly passwordNeedsReset: true;
}

/** What the activity returns: the user whose password is now set. */
export interface PasswordSetUser {
  readonly sysId: string;
  readonly userName: string;
}

/** Failure types of a password reset that no retry can fix; each says which refusal it was. */
export const PasswordFailureTypes = {
  /** No sys_user has this sys_id or user_name. */
  unknownUser: 'UnknownUser',
  /** ServiceNow refused the password (its password policy). */
  rejected: 'PasswordRejected',
  /** The connection's account may not set passwords (ACL, or a field ACL that silently skipped the change). */
  notAllowed: 'PasswordNotAllowed',
  /** The input was not a valid password reset. */
  invalidInput: 'InvalidPasswordReset',
  /** Started on a task queue whose workers do not encrypt. */
  wrongTaskQueue: 'PasswordOnPlainTaskQueue',
  /** An order sent to the password queue carries no password attribute for its mapping. */
  noPassword: 'NoPasswordInOrder',
} as const;

export type PasswordFailureType = (typeof PasswordFailureTypes)[keyof typeof PasswordFailureTypes];

/** The types the activities raise and the workflow never retries. */
export const NON_RETRYABLE_PASSWORD_FAILURES: readonly string[] = [
  PasswordFailureTypes.unknownUser,
  PasswordFailureTypes.rejected,
  PasswordFailureTypes.notAllowed,
  PasswordFailureTypes.noPassword,
];

/** Parsed input, or the problems (field paths and rules, never values). */
export function checkPasswordResetInput(
  value: unknown,
): { ok: true; input: PasswordResetInput } | { ok: false; problems: string[] } {
  const parsed = passwordResetInputSchema.safeParse(value);
  return parsed.success
    ? { ok: true, input: parsed.data }
    : { ok: false, problems: describeIssues(parsed.error) };
}

/** `sys_id 0123...` or `user_name jdoe`: how messages name the user. */
export function describePasswordUser(user: PasswordUser): string {
  return 'sysId' in user ? `sys_id ${user.sysId}` : `user_name ${user.userName}`;
}
