import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { expectNoSecret } from '../helpers/secretScan';

const SECRET = 'p@ss w/rd+"q"=ü';

describe('the secret scan used by the credential tests', () => {
  test('finds a secret in every form it may leak in', () => {
    const leaks = [
      `password=${SECRET}`,
      `Authorization: Basic ${Buffer.from(SECRET).toString('base64')}`,
      `token ${Buffer.from(SECRET).toString('base64').replace(/=+$/, '')}.`,
      `jwt ${Buffer.from(SECRET).toString('base64url')}`,
      `GET /x?p=${encodeURIComponent(SECRET)}`,
      `form: ${new URLSearchParams({ p: SECRET }).toString()}`,
      JSON.stringify({ error: SECRET }),
      // Inside a longer base64 text, as a payload's bytes appear in proto JSON, at each alignment.
      Buffer.from(`{"a":"${SECRET}"}`).toString('base64'),
      Buffer.from(`{"ab":"${SECRET}"}`).toString('base64'),
      Buffer.from(`{"abc":"${SECRET}"}`).toString('base64url'),
    ];
    for (const leak of leaks) assert.throws(() => expectNoSecret(leak, [SECRET]), /holds secret #0/, leak);
  });

  test('passes text without the secret, and refuses secrets too short to scan for', () => {
    expectNoSecret(
      'Connections.Main.Password: Azure Key Vault https://v (secret Connections--Main--Password)',
      [SECRET],
    );
    assert.throws(() => expectNoSecret('anything', ['abc']), /too short/);
  });
});
