import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { signedHeaders } from '../../src/push/signature';
import { runCli, spawnCli } from '../helpers/cli';
import { tempDir, writeJson } from '../helpers/files';
import { freePort } from '../helpers/ports';
import { waitFor } from '../helpers/waitFor';

/** `snow-ticket push-receiver` as an operator runs it: settings file plus the secret from the environment. */
describe('snow-ticket push-receiver', () => {
  const dir = tempDir();
  const secret = 'Push-command-secret-0123456789abcdef';

  async function settingsFile(): Promise<string> {
    // Nothing listens there: notices that need Temporal are answered 503 and can be sent again.
    const temporalPort = await freePort();
    return writeJson(dir, 'appsettings.agent.json', {
      TicketConnector: {
        DataDirectory: dir,
        Temporal: { Address: `127.0.0.1:${temporalPort}`, Namespace: 'push-ns' },
        Push: { Path: '/snow/changed' },
      },
    });
  }

  test('refuses to start without the shared secret, naming the setting', async () => {
    const result = await runCli(['--config', await settingsFile(), 'push-receiver', '--port', '0']);
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /TicketConnector\.Push\.Secret/);
  });

  test('listens on the settings path with the secret from the environment, and stops on SIGTERM', async () => {
    const port = await freePort();
    const child = spawnCli(['--config', await settingsFile(), 'push-receiver', '--port', String(port)], {
      SNOW_CONNECTOR__TicketConnector__Push__Secret: secret,
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const exited = once(child, 'exit');
    try {
      await waitFor('the receiver to listen', () => (output.includes('listening') ? true : undefined), {
        intervalMs: 100,
      });
      const url = `http://127.0.0.1:${port}/snow/changed`;
      assert.match(
        output,
        new RegExp(`Push receiver listening on ${url} \\(signaling orders on Temporal at`),
      );
      assert.match(output, /namespace push-ns/);

      const body = JSON.stringify({
        table: 'incident',
        sys_id: '0123456789abcdef0123456789abcdef',
        number: 'INC0010001',
        sys_mod_count: '2',
      });
      const post = (headers: Record<string, string>) =>
        fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
      assert.equal((await post({})).status, 401);
      // Signed: verified, then the settings' Temporal is asked, which is not there (after a bounded wait).
      const answer = await post(signedHeaders(secret, body, new Date()));
      assert.equal(answer.status, 503);
      assert.match(
        ((await answer.json()) as { error: string }).error,
        /^Temporal \(namespace push-ns\) did not take the notice; send it again later$/,
      );
      assert.ok(!output.includes(secret), 'the secret is never printed');
    } finally {
      child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      assert.equal(code, 0, output);
    }
  });
});
