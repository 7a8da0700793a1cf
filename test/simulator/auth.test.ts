import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock, useSimulator, type SimulatorFixture } from '../helpers/simulator';

/** Contract of authentication: Basic logins against sys_user, stored passwords, and `/oauth_token.do`. */

const ACCESS_DENIED = { error_description: 'access_denied', error: 'server_error' };

function tokenRequest(snow: SimulatorFixture, fields: Record<string, string>) {
  return fetch(snow.sim.oauthUrl, { method: 'POST', body: new URLSearchParams(fields) });
}

function passwordGrant(snow: SimulatorFixture, overrides: Record<string, string> = {}) {
  const { login, password, clientId, clientSecret } = snow.sim.credentials;
  return tokenRequest(snow, {
    grant_type: 'password',
    client_id: clientId,
    client_secret: clientSecret,
    username: login,
    password,
    ...overrides,
  });
}

describe('simulated passwords and Basic logins', () => {
  const snow = useSimulator();
  const user = { login: 'pat.user', password: 'First-pass-1' };
  let userSysId = '';
  const canLogIn = async (password: string) =>
    (await snow.call('/api/now/table/incident?sysparm_limit=1', { as: { login: user.login, password } }))
      .status === 200;

  test('a password written without sysparm_input_display_value=true is not usable', async () => {
    const created = await snow.create('sys_user', { user_name: user.login, user_password: user.password });
    userSysId = created.sys_id ?? '';
    assert.equal(created.user_password, '', 'passwords are never read back');
    assert.equal(await canLogIn(user.password), false);
  });

  test('with sysparm_input_display_value=true the password is stored and Basic login works', async () => {
    const response = await snow.call(
      `/api/now/table/sys_user/${userSysId}?sysparm_input_display_value=true`,
      {
        method: 'PATCH',
        body: { user_password: user.password },
      },
    );
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as { result: { user_password: string } }).result.user_password, '');
    assert.equal(await canLogIn(user.password), true);
    assert.equal(await canLogIn('wrong'), false);
  });

  test('password_needs_reset=true refuses the login; a locked out or inactive user is refused too', async () => {
    const refusals: [string, string][] = [
      ['password_needs_reset', 'true'],
      ['locked_out', 'true'],
      ['active', 'false'],
    ];
    for (const [field, value] of refusals) {
      const path = `/api/now/table/sys_user/${userSysId}`;
      await snow.call(path, { method: 'PATCH', body: { [field]: value } });
      assert.equal(await canLogIn(user.password), false, `${field}=${value}`);
      await snow.call(path, { method: 'PATCH', body: { [field]: value === 'true' ? 'false' : 'true' } });
      assert.equal(await canLogIn(user.password), true);
    }
  });
});

describe('simulated OAuth', () => {
  const clock = new ManualClock('2024-05-01T10:00:00Z');
  const snow = useSimulator({ now: clock.now });
  const readWith = (token: string) =>
    snow.call('/api/now/table/incident?sysparm_limit=1', { as: { bearer: token } });

  test('a JSON body is refused with 401 access_denied: the endpoint is form-encoded only', async () => {
    const { login, password, clientId, clientSecret } = snow.sim.credentials;
    const response = await fetch(snow.sim.oauthUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'password',
        client_id: clientId,
        client_secret: clientSecret,
        username: login,
        password,
      }),
    });
    assert.equal(response.status, 401);
    assert.deepEqual(await response.json(), ACCESS_DENIED);
  });

  test('the password grant returns access and refresh tokens usable as Bearer', async () => {
    const response = await passwordGrant(snow);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/json;charset=UTF-8');
    const body = (await response.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), [
      'access_token',
      'expires_in',
      'refresh_token',
      'scope',
      'token_type',
    ]);
    assert.equal(body.scope, 'useraccount');
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 1799);
    assert.equal((await readWith(String(body.access_token))).status, 200);
  });

  test('every failure is the same 401 access_denied', async () => {
    const failures: Record<string, string>[] = [
      { client_secret: 'wrong' },
      { client_id: 'wrong' },
      { password: 'wrong' },
      { username: 'nobody' },
      { grant_type: 'authorization_code' },
      { grant_type: 'client_credentials' },
    ];
    for (const overrides of failures) {
      const response = await passwordGrant(snow, overrides);
      assert.equal(response.status, 401, JSON.stringify(overrides));
      assert.deepEqual(await response.json(), ACCESS_DENIED);
    }
  });

  test('an access token expires after 1800 s of the instance clock; the refresh grant issues a new one', async () => {
    const tokens = (await (await passwordGrant(snow)).json()) as {
      access_token: string;
      refresh_token: string;
    };
    clock.advance(1799);
    assert.equal((await readWith(tokens.access_token)).status, 200);
    clock.advance(2);
    const expired = await readWith(tokens.access_token);
    assert.equal(expired.status, 401);
    assert.equal(
      ((await expired.json()) as { error: { message: string } }).error.message,
      'User Not Authenticated',
    );

    const { clientId, clientSecret } = snow.sim.credentials;
    const refreshed = await tokenRequest(snow, {
      grant_type: 'refresh_token',
      client_id: clientId,
      client_secret: clientSecret,
      refresh_token: tokens.refresh_token,
    });
    assert.equal(refreshed.status, 200);
    const renewed = (await refreshed.json()) as { access_token: string; refresh_token: string };
    assert.notEqual(renewed.access_token, tokens.access_token);
    assert.equal(renewed.refresh_token, tokens.refresh_token);
    assert.equal((await readWith(renewed.access_token)).status, 200);

    const wrongClient = await tokenRequest(snow, {
      grant_type: 'refresh_token',
      client_id: clientId,
      client_secret: 'wrong',
      refresh_token: tokens.refresh_token,
    });
    assert.equal(wrongClient.status, 401);
  });

  test('a refresh token expires after 100 days', async () => {
    const { refresh_token } = (await (await passwordGrant(snow)).json()) as { refresh_token: string };
    clock.advance(100 * 24 * 3600 + 1);
    const { clientId, clientSecret } = snow.sim.credentials;
    const response = await tokenRequest(snow, {
      grant_type: 'refresh_token',
      client_id: clientId,
      client_secret: clientSecret,
      refresh_token,
    });
    assert.equal(response.status, 401);
    assert.deepEqual(await response.json(), ACCESS_DENIED);
  });
});

describe('simulated OAuth client_credentials, when enabled', () => {
  const snow = useSimulator({
    oauth: { clientId: 'connector', clientSecret: 'Client-secret-1', clientCredentials: { enabled: true } },
  });

  test('issues an access token, without refresh token, that acts as the configured user', async () => {
    const response = await tokenRequest(snow, {
      grant_type: 'client_credentials',
      client_id: 'connector',
      client_secret: 'Client-secret-1',
    });
    assert.equal(response.status, 200);
    const body = (await response.json()) as Record<string, unknown>;
    assert.equal(body.refresh_token, undefined);
    const created = await snow.create(
      'incident',
      { short_description: 'as client' },
      { bearer: String(body.access_token) },
    );
    assert.equal(created.sys_created_by, 'admin');
  });

  test('still checks the client secret', async () => {
    const response = await tokenRequest(snow, {
      grant_type: 'client_credentials',
      client_id: 'connector',
      client_secret: 'wrong',
    });
    assert.equal(response.status, 401);
  });
});
