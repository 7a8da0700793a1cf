import { clip, MAX_FIELD_LENGTH, MAX_MESSAGE_LENGTH } from '../contract/limits';
import {
  describePasswordUser,
  PasswordFailureTypes,
  type PasswordFailureType,
  type PasswordSetUser,
  type PasswordUser,
} from '../contract/passwordReset';
import type { SecretRedactor } from '../http/redaction';
import { ServiceNowError } from './errors';
import type { CallOptions, ReadOptions, Row, TableApi } from './tableApi';

/**
 * Setting a ServiceNow user's password through the Table API: find the user (by sys_id or user_name), then
 * `PATCH sys_user/{sys_id}?sysparm_input_display_value=true` with `user_password` and `password_needs_reset`,
 * and read `password_needs_reset` back, since a field ACL makes ServiceNow skip a field silently and answer
 * 200 all the same. The password is redacted from every answer while the calls run.
 */

const USER_FIELDS = ['sys_id', 'user_name'] as const;
/** `user_name` is unique on a sane instance; a few rows leave room to report the insane one clearly. */
const MAX_USERS_PER_NAME = 10;

/**
 * The user whose user_name is `userName` (ServiceNow compares them without regard to case; a row that does not
 * match is not this user), or undefined; a `mismatch` ServiceNowError when several users share it.
 */
export async function findUserByName(
  api: TableApi,
  userName: string,
  options: ReadOptions = {},
): Promise<Row | undefined> {
  const rows = await api.list(
    'sys_user',
    api.query('sys_user', 'find').where('user_name', '=', userName),
    MAX_USERS_PER_NAME,
    {
      ...options,
      fields: options.fields === undefined ? undefined : [...new Set([...options.fields, 'user_name'])],
    },
  );
  const matches = rows.filter((row) => row.user_name?.toLowerCase() === userName.toLowerCase());
  if (matches.length > 1) {
    throw new ServiceNowError({
      kind: 'mismatch',
      operation: 'find',
      table: 'sys_user',
      reason: `several users have the user_name ${clip(userName, MAX_FIELD_LENGTH)}`,
    });
  }
  return matches[0];
}
/** Names each reset's redaction slot, so that concurrent resets on one client never forget each other's. */
let resets = 0;

/**
 * A refusal no retry can fix, naming which one (`type`): unknown user, password rejected by policy, account not
 * allowed. Its message names the user and ServiceNow's words (redacted), never the password.
 */
export class PasswordResetError extends Error {
  readonly retryable = false;

  constructor(
    readonly type: PasswordFailureType,
    message: string,
    readonly status?: number,
  ) {
    super(clip(message, MAX_MESSAGE_LENGTH));
    // The name is the Temporal failure type (src/activities/failures.ts uses it as such).
    this.name = type;
  }
}

/** ServiceNow's own words of an error, already redacted and capped by the transport. */
function said(error: ServiceNowError): string {
  const words = [error.serviceNowMessage, error.detail].filter((part) => part !== undefined && part !== '');
  return words.length === 0 ? `HTTP ${error.status ?? '?'}` : `HTTP ${error.status}: ${words.join(': ')}`;
}

function unknownUser(user: PasswordUser): PasswordResetError {
  return new PasswordResetError(
    PasswordFailureTypes.unknownUser,
    `No ServiceNow user with ${describePasswordUser(user)} (or the account may not read it)`,
    404,
  );
}

function notAllowed(who: string, why: string, status?: number): PasswordResetError {
  return new PasswordResetError(
    PasswordFailureTypes.notAllowed,
    `The connection's ServiceNow account may not set the password of ${who}: ${why}. Give it the user_admin (or admin) role`,
    status,
  );
}

async function findUser(api: TableApi, user: PasswordUser, options: CallOptions): Promise<PasswordSetUser> {
  const read: ReadOptions = { signal: options.signal, fields: USER_FIELDS };
  let row: Row | undefined;
  try {
    if ('sysId' in user) {
      row = await api.get('sys_user', user.sysId, read);
      if (row.sys_id !== user.sysId) row = undefined;
    } else {
      row = await findUserByName(api, user.userName, read);
    }
  } catch (error) {
    if (error instanceof ServiceNowError && error.status === 404) throw unknownUser(user);
    if (error instanceof ServiceNowError && error.status === 403) {
      throw notAllowed(describePasswordUser(user), `reading sys_user was refused (${said(error)})`, 403);
    }
    throw error;
  }
  if (row?.sys_id === undefined || row.sys_id === '') throw unknownUser(user);
  return { sysId: row.sys_id, userName: clip(row.user_name ?? '', MAX_FIELD_LENGTH) };
}

/**
 * Sets the password and `password_needs_reset`. Setting the same password again is harmless (the same PATCH).
 * Throws PasswordResetError for the refusals no retry can fix; ServiceNowError (retryable or not, as classified)
 * for the rest.
 */
export async function setUserPassword(
  api: TableApi,
  redactor: SecretRedactor,
  user: PasswordUser,
  password: string,
  options: CallOptions = {},
): Promise<PasswordSetUser> {
  // Redacted while the calls run (ServiceNow could echo it in an error), then forgotten.
  const slot = `new-password-${(resets += 1)}`;
  redactor.set(slot, password);
  try {
    const found = await findUser(api, user, options);
    const who = `user ${found.userName === '' ? found.sysId : found.userName} (sys_id ${found.sysId})`;
    let row: Row;
    try {
      row = await api.update(
        'sys_user',
        found.sysId,
        { user_password: password, password_needs_reset: 'true' },
        {
          signal: options.signal,
          fields: ['sys_id', 'user_name', 'password_needs_reset'],
          inputDisplayValue: true,
          operation: 'set-password',
        },
      );
    } catch (error) {
      if (!(error instanceof ServiceNowError)) throw error;
      if (error.status === 400) {
        throw new PasswordResetError(
          PasswordFailureTypes.rejected,
          `ServiceNow rejected the new password of ${who} (${said(error)}); choose one that meets the instance's password policy`,
          400,
        );
      }
      if (error.status === 403) throw notAllowed(who, `ServiceNow refused the change (${said(error)})`, 403);
      if (error.status === 404) throw unknownUser({ sysId: found.sysId });
      throw error;
    }
    if (row.sys_id !== found.sysId) {
      throw new ServiceNowError({
        kind: 'mismatch',
        operation: 'set-password',
        table: 'sys_user',
        record: found.sysId,
        reason: 'ServiceNow returned a record that does not match the one asked for',
      });
    }
    if (row.password_needs_reset !== 'true') {
      throw notAllowed(
        who,
        'ServiceNow answered 200 but did not set password_needs_reset, which is what it does with fields a field ACL ' +
          'forbids this account to write (the password may not have been set either)',
        200,
      );
    }
    return found;
  } finally {
    redactor.delete(slot);
  }
}
