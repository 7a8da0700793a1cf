import assert from 'node:assert/strict';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import { Keyring } from '../../src/codec/keyring';
import { AesGcmPayloadCodec } from '../../src/codec/payloadCodec';
import { payloadsToJson } from '../../src/codec/payloadJson';
import { runCli, spawnCli } from '../helpers/cli';
import { tempDir, writeJson } from '../helpers/files';
import { freePort } from '../helpers/ports';
import { waitFor } from '../helpers/waitFor';

/** `snow-ticket codec-server` as an operator (or the compose service) runs it: settings file plus environment. */
describe('snow-ticket codec-server', () => {
  const dir = tempDir();
  const key = randomBytes(32);
  const token = randomBytes(24).toString('base64url');
  const settingsFile = writeJson(dir, 'appsettings.agent.json', {
    TicketConnector: {
      DataDirectory: dir,
      Encryption: { Keys: { cmd1: key.toString('base64') }, ActiveKey: 'cmd1' },
    },
  });

  test('refuses to start without a token, naming the setting and not echoing a key', async () => {
    const result = await runCli(['--config', settingsFile, 'codec-server', '--port', '0']);
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /TicketConnector\.Encryption\.CodecServer\.Token/);
    assert.ok(!(result.stdout + result.stderr).includes(key.toString('base64')));
  });

  test('serves /decode with the token from the environment, and stops on SIGTERM', async () => {
    const port = await freePort();
    const child = spawnCli(['--config', settingsFile, 'codec-server', '--port', String(port)], {
      SNOW_CONNECTOR__TicketConnector__Encryption__CodecServer__Token: token,
      SNOW_CONNECTOR__TicketConnector__Encryption__CodecServer__AllowedOrigins:
        'http://localhost:8233,http://127.0.0.1:8233',
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const exited = once(child, 'exit');
    try {
      await waitFor('the codec server to listen', () => (output.includes('listening') ? true : undefined), {
        timeoutMs: 60_000,
        intervalMs: 100,
      });
      assert.match(
        output,
        new RegExp(`Codec server listening on http://localhost:${port} \\(keys cmd1; encodes with cmd1\\)`),
      );
      assert.match(output, /origins allowed: http:\/\/localhost:8233, http:\/\/127\.0\.0\.1:8233/);
      assert.ok(!output.includes(token), 'the token is never printed');

      const sealed = await new AesGcmPayloadCodec(new Keyring([{ id: 'cmd1', key }], 'cmd1'), {
        encrypt: true,
      }).encode([defaultPayloadConverter.toPayload({ owner: 'Jane Doe' })]);
      const response = await fetch(`http://127.0.0.1:${port}/decode`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(payloadsToJson(sealed)),
      });
      assert.equal(response.status, 200);
      const body = (await response.json()) as { payloads: { data: string }[] };
      assert.equal(Buffer.from(body.payloads[0]?.data ?? '', 'base64').toString(), '{"owner":"Jane Doe"}');
    } finally {
      child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      assert.equal(code, 0, output);
    }
  });
});
