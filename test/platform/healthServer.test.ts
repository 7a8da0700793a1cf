import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { State } from '@temporalio/worker';
import { healthServerPort, startHealthServer } from '../../src/platform/healthServer';

test('/healthz answers 200 only while the worker is running', async () => {
  let state: State = 'INITIALIZED';
  const server = await startHealthServer({ getState: () => state }, 0);
  after(() => server.close());
  const url = `http://127.0.0.1:${healthServerPort(server)}`;

  const starting = await fetch(`${url}/healthz`);
  assert.equal(starting.status, 503);
  assert.deepEqual(await starting.json(), { state: 'INITIALIZED' });

  state = 'RUNNING';
  assert.equal((await fetch(`${url}/healthz`)).status, 200);

  state = 'DRAINING';
  assert.equal((await fetch(`${url}/healthz`)).status, 503);

  assert.equal((await fetch(`${url}/other`)).status, 404);
});
