import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { openLedger, type SqliteLedger } from '../../src/assignments/sqliteLedger';
import { orderWorkflowId } from '../../src/client/provisioning';
import { parseSettings } from '../../src/config/load';
import type { SettingsFile } from '../../src/config/schema';
import { createConnectorWorker } from '../../src/platform/connectorWorker';
import { parseProvisioningInput, type ProvisioningInput } from '../../src/provisioning/order';
import type { SimulatorHandle } from '../../src/servicenow/simulator/server';
import { workflowBundle } from './temporal';

export const CONNECTION = 'Sim';

/** Resource types of the test settings: one per table, and one never synchronised. */
export const RESOURCE_TYPES = {
  incident: 'App_Incident',
  catalog: 'App_Catalog',
  unsynchronised: 'App_Unsynced',
} as const;

type TicketConnectorOverrides = Record<string, unknown>;

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
      Connections: {
        [CONNECTION]: {
          Server: sim.tableApiUrl,
          Login: sim.credentials.login,
          Password: sim.credentials.password,
        },
      },
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

export interface ProvisioningHarness {
  readonly settings: SettingsFile;
  readonly ledger: SqliteLedger;
  readonly worker: Worker;
  readonly taskQueue: string;
}

/** A real worker with the connector's activities against the simulator, recording into a SQLite ledger file. */
export async function provisioningWorker(
  env: TestWorkflowEnvironment,
  settings: SettingsFile,
  taskQueue: string,
): Promise<ProvisioningHarness> {
  const ledger = openLedger(
    path.join(settings.TicketConnector.DataDirectory, `${taskQueue.replace(/\W+/g, '-')}.sqlite`),
  );
  const worker = await createConnectorWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    settings,
    assignments: ledger,
    workflowBundle: await workflowBundle(),
  });
  return { settings, ledger, worker, taskQueue };
}

export { orderWorkflowId };
