import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { basicAuthorization, useSimulator } from '../helpers/simulator';

/**
 * Requests without a body that still carry `Content-Type: application/json`, as many HTTP clients send on every
 * call. Plain fetch, so that the header and the missing body are exactly what goes over the wire.
 */

describe('simulator: bodiless requests with a JSON content type', () => {
  const snow = useSimulator();
  const bodiless = (method: string, path: string) =>
    fetch(`${snow.sim.url}${path}`, {
      method,
      headers: {
        'content-type': 'application/json',
        authorization: basicAuthorization(snow.sim.credentials.login, snow.sim.credentials.password),
      },
    });

  test('DELETE is answered 204 and deletes the record', async () => {
    const created = await snow.create('incident', { short_description: 'delete me' });
    const response = await bodiless('DELETE', `/api/now/table/incident/${created.sys_id}`);
    assert.equal(response.status, 204, await response.text());
    assert.equal((await snow.call(`/api/now/table/incident/${created.sys_id}`)).status, 404);
  });

  test('GET and HEAD are answered 200', async () => {
    const created = await snow.create('incident', { short_description: 'read me' });
    for (const method of ['GET', 'HEAD']) {
      const response = await bodiless(method, `/api/now/table/incident/${created.sys_id}`);
      assert.equal(response.status, 200, `${method}: ${await response.text()}`);
    }
  });

  test('an admin POST that takes no body (reset, a ticket action) is carried out', async () => {
    const incident = await snow.create('incident', { short_description: 'work on me' });
    const work = await bodiless('POST', `/sim/admin/tickets/${incident.number}/work`);
    const answer = await work.text();
    assert.equal(work.status, 200, answer);
    const { result } = JSON.parse(answer) as { result: { state_label: string } };
    assert.equal(result.state_label, 'In Progress');
    const reset = await bodiless('POST', '/sim/admin/reset');
    assert.equal(reset.status, 200, await reset.text());
    assert.equal((await snow.call(`/api/now/table/incident/${incident.sys_id}`)).status, 404);
  });

  test('a create or update without a body is answered as without the header: the body must be an object', async () => {
    const created = await snow.create('incident', {});
    for (const [method, path] of [
      ['POST', '/api/now/table/incident'],
      ['PATCH', `/api/now/table/incident/${created.sys_id}`],
    ] as const) {
      const response = await bodiless(method, path);
      assert.equal(response.status, 400);
      assert.deepEqual(await response.json(), {
        error: {
          message: 'Exception while reading request',
          detail: 'The request body must be a JSON object',
        },
        status: 'failure',
      });
    }
  });

  test('a body with a __proto__ key is still refused', async () => {
    const response = await snow.call('/api/now/table/incident', {
      body: '{"short_description":"x","__proto__":{"admin":true}}',
    });
    assert.equal(response.status, 400);
    const { error } = (await response.json()) as { error: { message: string } };
    assert.equal(error.message, 'Exception while reading request');
  });
});
