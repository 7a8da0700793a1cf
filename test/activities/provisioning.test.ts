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

const settings = parseSettings(
  {
    Connections: { Real: { Server: 'https://a.service-now.com/api/now/table', Login: 'a', Password: 'b' } },
    TicketConnector: {
      ResourceTypeMappings: {
        SAP_Role: { Connection: 'Real', CallerId: 'svc', TitleTemplate: 't', DescriptionTemplate: 'd' },
      },
    },
  },
  'test settings',
);

describe('provisioning activities for a connection named like an Object.prototype member', () => {
  const ledger = openLedger(path.join(tempDir('provisioning-activities-'), 'ledger.sqlite'));
  after(() => ledger.close());
  const activities = connectorActivities({ settings, version: 'test', assignments: ledger });
  const env = new MockActivityEnvironment();
  const ticket = { table: 'incident', sysId: 'a'.repeat(32), number: 'INC0010001' } as const;
  const order = provisioningOrderSchema.parse({
    AssignedResourceTypeId: 1,
    ChangeType: 'Added',
    Owner: { Id: 1, Identifier: 'jdoe' },
    ResourceType: { Id: 2, Identifier: 'SAP_Role' },
  });
  const content = { table: 'incident', caller: 'b'.repeat(32), fields: { short_description: 't' } } as const;

  /** Fails at once with a non-retryable UnknownConnection naming it, never a TypeError retried forever. */
  const unknownConnection = (name: string) => (error: unknown) => {
    assert.ok(error instanceof ApplicationFailure, String(error));
    assert.equal(error.type, 'UnknownConnection');
    assert.equal(error.nonRetryable, true);
    assert.equal(error.message, `Connection '${name}' is not defined under Connections (defined: Real)`);
    return true;
  };

  for (const name of ['constructor', 'toString', 'hasOwnProperty']) {
    test(`connection ${name}: every ServiceNow activity fails with UnknownConnection`, async () => {
      await assert.rejects(
        env.run((request: Parameters<typeof activities.openTicket>[0]) => activities.openTicket(request), {
          connection: name,
          order,
          orderId: 'o-1',
          content,
        }),
        unknownConnection(name),
      );
      await assert.rejects(
        env.run((request: Parameters<typeof activities.checkTicket>[0]) => activities.checkTicket(request), {
          connection: name,
          ticket,
          orderId: 'o-1',
        }),
        unknownConnection(name),
      );
      await assert.rejects(
        env.run(
          (request: Parameters<typeof activities.cancelTicket>[0]) => activities.cancelTicket(request),
          { connection: name, correlationId: 'o-1', note: 'n' },
        ),
        unknownConnection(name),
      );
    });
  }

  test('resource type __proto__ or constructor: planProvisioning fails with MissingMappingError', async () => {
    for (const resourceType of ['__proto__', 'constructor']) {
      const unmapped = { ...order, ResourceType: { ...order.ResourceType, Identifier: resourceType } };
      await assert.rejects(
        env.run(
          (request: Parameters<typeof activities.planProvisioning>[0]) =>
            activities.planProvisioning(request),
          { connection: 'Real', order: unmapped, orderId: 'o-2' },
        ),
        (error: unknown) => {
          assert.ok(error instanceof ApplicationFailure, String(error));
          assert.equal(error.type, 'MissingMappingError');
          assert.equal(error.nonRetryable, true);
          assert.match(error.message, new RegExp(`^Resource type "${resourceType}" has no ticket mapping`));
          return true;
        },
      );
    }
  });
});
