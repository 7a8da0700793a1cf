/**
 * Setting a password against instances that answer what the simulator never does: a policy message quoting the
 * password in every form, a 200 that skipped the fields, two users with one name. A scripted loopback server.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { toActivityFailure } from '../../src/activities/failures';
import { ServiceNowClient } from '../../src/servicenow/client';
import { PasswordResetError } from '../../src/servicenow/users';
import { useLoopbackServer, type Handler } from '../helpers/loopbackServer';
import { failureOf, renderings, serviceNowFailure } from '../helpers/serviceNowErrors';
import { expectNoSecret } from '../helpers/secretScan';

const NEW_PASSWORD = 'New-"Pa55"&word/+é';
const USER = { sys_id: 'c'.repeat(32), user_name: 'jdoe' };

/** Answers the user lookup with `users`, and the PATCH with `patch`. */
let lookup: unknown[] = [USER];
let patch: { status: number; body: unknown } = { status: 200, body: { result: USER } };
const patched: string[] = [];
const handler: Handler = (request, response) => {
  const answer = (status: number, body: unknown) => {
    response.writeHead(status, { 'Content-Type': 'application/json;charset=UTF-8' });
    response.end(JSON.stringify(body));
  };
  if (request.method === 'PATCH') {
    let body = '';
    request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      patched.push(`${request.url} ${body}`);
      answer(patch.status, patch.body);
    });
    return;
  }
  answer(200, { result: request.url?.includes(`/sys_user/${USER.sys_id}`) ? lookup[0] : lookup });
};
const server = useLoopbackServer((request, response) => handler(request, response));

const client = () =>
  new ServiceNowClient({
    tableApiUrl: `${server.url}/api/now/table`,
    credentials: { kind: 'basic', login: 'connector', password: 'Connector-pass-1' },
  });

/** Every form an instance may quote the password in. */
function echoed(password: string): string {
  const base64 = Buffer.from(password).toString('base64');
  return [
    password,
    encodeURIComponent(password),
    base64,
    Buffer.from(password).toString('base64url'),
    JSON.stringify(password),
  ].join(' | ');
}

describe('setting a password against a scripted instance', () => {
  test('sends the password once, with sysparm_input_display_value=true and password_needs_reset', async () => {
    lookup = [USER];
    patch = { status: 200, body: { result: { ...USER, password_needs_reset: 'true' } } };
    patched.length = 0;
    assert.deepEqual(await client().setUserPassword({ userName: 'JDOE' }, NEW_PASSWORD), {
      sysId: USER.sys_id,
      userName: 'jdoe',
    });
    assert.equal(patched.length, 1);
    const [call] = patched;
    assert.match(call ?? '', /^\/api\/now\/table\/sys_user\/c{32}\?.*sysparm_input_display_value=true/);
    assert.match(call ?? '', /sysparm_fields=sys_id,user_name,password_needs_reset/);
    assert.deepEqual(JSON.parse((call ?? '').split(' ').slice(1).join(' ')), {
      user_password: NEW_PASSWORD,
      password_needs_reset: 'true',
    });
  });

  test('a policy refusal quoting the password is PasswordRejected with the password redacted everywhere', async () => {
    patch = {
      status: 400,
      body: {
        error: { message: `Password ${echoed(NEW_PASSWORD)} is too common`, detail: echoed(NEW_PASSWORD) },
        status: 'failure',
      },
    };
    const error = await failureOf(PasswordResetError, () =>
      client().setUserPassword({ sysId: USER.sys_id }, NEW_PASSWORD),
    );
    assert.equal(error.type, 'PasswordRejected');
    assert.equal(error.retryable, false);
    assert.match(error.message, /rejected the new password of user jdoe .*\[redacted\]/);
    for (const text of renderings(error)) expectNoSecret(text, [NEW_PASSWORD], 'the error');
    const failure = toActivityFailure(error);
    assert.equal(failure.type, 'PasswordRejected');
    assert.equal(failure.nonRetryable, true);
    expectNoSecret(
      JSON.stringify({ message: failure.message, details: failure.details }),
      [NEW_PASSWORD],
      'the failure',
    );
  });

  test('a 200 that did not set password_needs_reset is PasswordNotAllowed (a field ACL skipped it)', async () => {
    patch = { status: 200, body: { result: { ...USER, password_needs_reset: 'false' } } };
    const error = await failureOf(PasswordResetError, () =>
      client().setUserPassword({ sysId: USER.sys_id }, NEW_PASSWORD),
    );
    assert.equal(error.type, 'PasswordNotAllowed');
    assert.match(error.message, /did not set password_needs_reset/);
  });

  test('a 403 is PasswordNotAllowed; a 5xx stays a retryable ServiceNow error', async () => {
    patch = {
      status: 403,
      body: { error: { message: 'Operation Failed', detail: 'ACL Exception' }, status: 'failure' },
    };
    const denied = await failureOf(PasswordResetError, () =>
      client().setUserPassword({ sysId: USER.sys_id }, NEW_PASSWORD),
    );
    assert.equal(denied.type, 'PasswordNotAllowed');
    assert.match(denied.message, /HTTP 403: Operation Failed: ACL Exception/);
    patch = {
      status: 503,
      body: { error: { message: `down ${NEW_PASSWORD}`, detail: null }, status: 'failure' },
    };
    const down = await serviceNowFailure(() =>
      client().setUserPassword({ sysId: USER.sys_id }, NEW_PASSWORD),
    );
    assert.equal(down.retryable, true);
    for (const text of renderings(down)) expectNoSecret(text, [NEW_PASSWORD], 'the error');
  });

  test('no user, or several with one user_name, is refused before anything is sent', async () => {
    patched.length = 0;
    lookup = [];
    const unknown = await failureOf(PasswordResetError, () =>
      client().setUserPassword({ userName: 'ghost' }, NEW_PASSWORD),
    );
    assert.equal(unknown.type, 'UnknownUser');
    assert.match(unknown.message, /No ServiceNow user with user_name ghost/);
    lookup = [USER, { ...USER, sys_id: 'd'.repeat(32) }];
    const twice = await serviceNowFailure(() => client().setUserPassword({ userName: 'jdoe' }, NEW_PASSWORD));
    assert.equal(twice.kind, 'mismatch');
    assert.match(twice.message, /several users have the user_name jdoe/);
    assert.equal(patched.length, 0);
  });
});
