import { parseSettings } from '../../src/config/load';
import type { SettingsFile } from '../../src/config/schema';
import { parseProvisioningInput, type ProvisioningInput } from '../../src/contract/order';
import type { SimulatorHandle } from '../../src/simulator/server';

/** Settings and orders for a connector pointed at a running ServiceNow simulator: for tests and scripts. */

export const CONNECTION = 'Sim';

/** Resource types of the test settings: one per table, and one never synchronised. */
export const RESOURCE_TYPES = {
  incident: 'App_Incident',
  catalog: 'App_Catalog',
  unsynchronised: 'App_Unsynced',
} as const;

export type TicketConnectorOverrides = Record<string, unknown>;

/** The `Connections` section for one connection to a running simulator; `extra` merges into the connection. */
export function simulatorConnection(
  sim: SimulatorHandle,
  extra: Record<string, unknown> = {},
): Record<string, Record<string, unknown>> {
  return {
    [CONNECTION]: {
      Server: sim.tableApiUrl,
      Login: sim.credentials.login,
      Password: sim.credentials.password,
      ...extra,
    },
  };
}

/** Settings pointing at a running simulator, with test-sized polling; `overrides` merge into TicketConnector. */
export function simulatorSettings(
  sim: SimulatorHandle,
  dataDir: string,
  overrides: TicketConnectorOverrides = {},
): SettingsFile {
  const mapping = (extra: Record<string, unknown>) => ({
    Connection: CONNECTION,
    CallerId: sim.credentials.login,
    Category: 'Access',
    TitleTemplate: '{{ChangeType}} {{ResourceType.Identifier}} for {{Owner.Identifier}}',
    DescriptionTemplate:
      "Please {{#ifCond ChangeType '==' 'Deleted'}}remove{{else}}grant{{/ifCond}} {{ResourceType.Identifier}}.",
    AdditionalText: 'Close this ticket when done.',
    ...extra,
  });
  return parseSettings(
    {
      Connections: simulatorConnection(sim),
      TicketConnector: {
        DataDirectory: dataDir,
        Polling: { FirstCheckAfter: '1m', MaxInterval: '1h', BackoffCoefficient: 2, Jitter: 0.1 },
        ResourceTypeMappings: {
          [RESOURCE_TYPES.incident]: mapping({ Table: 'incident' }),
          [RESOURCE_TYPES.catalog]: mapping({ Table: 'sc_request' }),
          [RESOURCE_TYPES.unsynchronised]: mapping({
            Table: 'incident',
            TicketSynchroIsNotAvailable: 'true',
          }),
        },
        ...overrides,
      },
    },
    'test settings',
  );
}

let orderCounter = 0;

/** A valid order; every call gets a new assignment id unless one is given. */
export function testOrder(
  resourceType: string = RESOURCE_TYPES.incident,
  changes: Record<string, unknown> = {},
): ProvisioningInput {
  orderCounter += 1;
  return parseProvisioningInput({
    connection: CONNECTION,
    order: {
      AssignedResourceTypeId: `${process.pid}-${orderCounter}`,
      ChangeType: 'Added',
      Owner: { Id: 42, Identifier: 'jdoe', InternalDisplayName: 'Jane Doe' },
      ResourceType: { Id: 7, Identifier: resourceType },
      Changes: { Login: 'jdoe' },
      ...changes,
    },
  });
}
