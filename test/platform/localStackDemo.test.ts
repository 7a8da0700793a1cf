import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CHANGE_TYPES, provisioningOrderSchema } from '../../src/contract/order';
import { compileMappings } from '../../src/provisioning/templates';
import { renderTicketContent } from '../../src/provisioning/ticketContent';
import { DEMO_RESOURCE_TYPE, demoMapping, SIMULATOR_CONNECTION_ID } from '../../src/stack/localSimulator';
import demoOrder from '../../examples/order.json';

const mapping = demoMapping('admin');

function demoTicket(changeType: string) {
  const order = provisioningOrderSchema.parse({ ...demoOrder.order, ChangeType: changeType });
  return renderTicketContent({
    resourceType: DEMO_RESOURCE_TYPE,
    mapping,
    order,
    connection: SIMULATOR_CONNECTION_ID,
    orderId: 'Simulator:1001:demo',
  });
}

test("the local stack's demo ticket says what to do for each change type", () => {
  const descriptions = Object.fromEntries(
    CHANGE_TYPES.map((changeType) => [changeType, demoTicket(changeType).fields.description]),
  );
  assert.deepEqual(descriptions, {
    Added:
      'Please grant Demo_AppAccess for Jane Doe (jdoe).\n\n' +
      'Close this ticket once the access is in place; cancel it if it cannot be granted.',
    Modified:
      'Please change Demo_AppAccess for Jane Doe (jdoe).\n\n' +
      'Close this ticket once the access is changed; cancel it if it cannot be changed.',
    Deleted:
      'Please remove Demo_AppAccess for Jane Doe (jdoe).\n\n' +
      'Close this ticket once the access is removed; cancel it if it cannot be removed.',
  });
  assert.equal(demoTicket('Deleted').fields.short_description, 'Deleted Demo_AppAccess for Jane Doe');
});

test('the demo mapping passes the compile check and serves the example order', () => {
  assert.deepEqual(compileMappings({ [DEMO_RESOURCE_TYPE]: mapping }), []);
  assert.equal(demoOrder.connection, SIMULATOR_CONNECTION_ID);
  assert.equal(demoOrder.order.ResourceType.Identifier, DEMO_RESOURCE_TYPE);
});
