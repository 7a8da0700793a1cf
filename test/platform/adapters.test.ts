import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { toActivityFailure } from '../../src/activities/failures';
import { parseSettings } from '../../src/config/load';
import { serviceNowClientPool, UnknownConnectionError } from '../../src/servicenow/connection';

const settings = parseSettings(
  { Connections: { Real: { Server: 'https://a.service-now.com/api/now/table', Login: 'a', Password: 'b' } } },
  'test settings',
);

describe('ServiceNow clients by connection name', () => {
  test('a connection named like an Object.prototype member is unknown unless configured, and not retried', () => {
    const clients = serviceNowClientPool(settings);
    for (const name of ['constructor', 'toString', 'hasOwnProperty', '__proto__']) {
      assert.throws(
        () => clients(name),
        (error: unknown) => {
          assert.ok(error instanceof UnknownConnectionError, `${name}: ${String(error)}`);
          assert.equal(
            error.message,
            `Connection '${name}' is not defined under Connections (defined: Real)`,
          );
          const failure = toActivityFailure(error);
          assert.equal(failure.type, 'UnknownConnection');
          assert.equal(failure.nonRetryable, true);
          return true;
        },
      );
    }
  });
});
