import assert from 'node:assert/strict';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { openLedger } from '../../src/assignments/sqliteLedger';
import { parseSettings } from '../../src/config/load';
import { provisioningOrderSchema } from '../../src/contract/order';
import { connectorActivities } from '../../src/platform/adapters';
import { tempDir } from '../helpers/files';
import { expectNoSecret } from '../helpers/secretScan';

/** The refusals the password activities make before any call to ServiceNow (the calls: test/workflows/passwordReset). */

const SECRET = 'Order-Pa55word-1';

const settings = parseSettings(
  {
    Connections: { Real: { Server: 'https://a.service-now.com/api/now/table', Login: 'a', Password: 'b' } },
    TicketConnector: {
      ResourceTypeMappings: {
        App_Account: {
          Connection: 'Real',
          CallerId: 'svc',
          TitleTemplate: 't',
          DescriptionTemplate: 'd',
          Password: { Attribute: 'InitialPassword', UserAttribute: 'Login' },
        },
      },
    },
  },
  'test settings',
);

const order = (changes: Record<string, unknown>, resource: Record<string, unknown> = {}) =>
  provisioningOrderSchema.parse({
    AssignedResourceTypeId: 1,
    ChangeType: 'Modified',
    Owner: { Id: 1 },
    ResourceType: { Identifier: 'App_Account' },
    Changes: changes,
    Resource: resource,
  });

describe('password activities: refusals before ServiceNow', () => {
  const ledger = openLedger(path.join(tempDir('password-activities-'), 'ledger.sqlite'));
  after(() => ledger.close());
  const activities = connectorActivities({ settings, version: 'test', assignments: ledger });
  const env = new MockActivityEnvironment();

  const refusal = (type: string, pattern: RegExp) => (error: unknown) => {
    assert.ok(error instanceof ApplicationFailure, String(error));
    assert.equal(error.type, type);
    assert.equal(error.nonRetryable, true);
    assert.match(error.message, pattern);
    expectNoSecret(error.message, [SECRET], 'the failure');
    return true;
  };

  const resetOrder = (changes: Record<string, unknown>, resource?: Record<string, unknown>) =>
    env.run(
      (request: Parameters<typeof activities.resetOrderPassword>[0]) =>
        activities.resetOrderPassword(request),
      { connection: 'Real', order: order(changes, resource) },
    );

  test('an order without its password attribute is NoPasswordInOrder', async () => {
    await assert.rejects(
      resetOrder({ Login: 'jdoe' }),
      refusal('NoPasswordInOrder', /carries no password attribute/),
    );
  });

  test('a password that is not a non-empty string, or no user attribute, is NoPasswordInOrder naming the attribute', async () => {
    await assert.rejects(
      resetOrder({ InitialPassword: 42, Login: 'jdoe' }),
      refusal('NoPasswordInOrder', /Changes\.InitialPassword \(the password\) must be a non-empty string/),
    );
    await assert.rejects(
      resetOrder({ InitialPassword: SECRET }, { Other: 'x' }),
      refusal('NoPasswordInOrder', /no Login \(in Changes or Resource\)/),
    );
  });

  test('an unknown connection is UnknownConnection, before the password goes anywhere', async () => {
    await assert.rejects(
      env.run(
        (request: Parameters<typeof activities.setUserPassword>[0]) => activities.setUserPassword(request),
        { connection: 'Nowhere', user: { userName: 'jdoe' }, password: SECRET },
      ),
      refusal('UnknownConnection', /Connection 'Nowhere' is not defined/),
    );
  });
});
