import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { AddressInfo } from 'node:net';
import type { State } from '@temporalio/worker';
import { ConfigError, parseSettings } from '../../src/config/load';
import { healthEndpoint, healthServerPort, startHealthServer } from '../../src/platform/healthServer';

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

test('by default the endpoint listens on the loopback interface only', async () => {
  const server = await startHealthServer({ getState: () => 'RUNNING' }, 0);
  after(() => server.close());
  assert.equal((server.address() as AddressInfo).address, '127.0.0.1');
  assert.equal((await fetch(`http://127.0.0.1:${healthServerPort(server)}/healthz`)).status, 200);
});

test('a configured host is used: 0.0.0.0 for probes from outside the container', async () => {
  const server = await startHealthServer({ getState: () => 'RUNNING' }, 0, '0.0.0.0');
  after(() => server.close());
  assert.equal((server.address() as AddressInfo).address, '0.0.0.0');
});

test('WORKER_HEALTH_PORT and WORKER_HEALTH_HOST win over Worker.HealthPort and Worker.HealthHost', () => {
  assert.equal(healthEndpoint({}, {}), undefined, 'no port: no endpoint');
  assert.deepEqual(healthEndpoint({ HealthPort: 8080 }, {}), { port: 8080, host: '127.0.0.1' });
  assert.deepEqual(healthEndpoint({ HealthPort: 8080, HealthHost: '::1' }, {}), { port: 8080, host: '::1' });
  assert.deepEqual(
    healthEndpoint(
      { HealthPort: 8080, HealthHost: '::1' },
      { WORKER_HEALTH_PORT: '9090', WORKER_HEALTH_HOST: '0.0.0.0' },
    ),
    { port: 9090, host: '0.0.0.0' },
  );
  assert.throws(
    () => healthEndpoint({}, { WORKER_HEALTH_PORT: '80800' }),
    (error: unknown) =>
      error instanceof ConfigError &&
      error.problems.join() === 'WORKER_HEALTH_PORT: must be a whole number from 0 to 65535',
  );
  assert.throws(
    () => healthEndpoint({ HealthPort: 8080 }, { WORKER_HEALTH_HOST: 'http://0.0.0.0/' }),
    (error: unknown) =>
      error instanceof ConfigError &&
      error.problems.join() ===
        'WORKER_HEALTH_HOST: must be an IP address such as 127.0.0.1 or 0.0.0.0, or a host name',
  );
});

test('Worker.HealthHost in the settings is checked when they load', () => {
  assert.throws(
    () => parseSettings({ TicketConnector: { Worker: { HealthHost: 'all interfaces' } } }, 'test settings'),
    /TicketConnector\.Worker\.HealthHost: must be an IP address such as 127\.0\.0\.1 or 0\.0\.0\.0, or a host name/,
  );
  const settings = parseSettings({ TicketConnector: { Worker: { HealthHost: '0.0.0.0' } } }, 'test settings');
  assert.equal(settings.TicketConnector.Worker.HealthHost, '0.0.0.0');
});
