import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startOrder } from '../../src/client/provisioning';
import { parseSettings } from '../../src/config/load';
import { statusQuery } from '../../src/contract/messages';
import { parseProvisioningInput } from '../../src/contract/order';
import type { provisioningWorkflow } from '../../src/workflows';
import { tempDir } from '../helpers/files';
import {
  CONNECTION,
  provisioningWorker,
  simulatorConnection,
  type ProvisioningHarness,
} from '../helpers/provisioning';
import { useSimulator } from '../helpers/simulator';
import { createTimeSkippingEnv } from '../helpers/temporal';
import { waitFor } from '../helpers/waitFor';

/** Names that every JavaScript object answers to work when they are configured on purpose. */
describe('a connection named constructor and a resource type named toString (time-skipping server)', () => {
  const simulator = useSimulator();
  const dataDir = tempDir();
  let env: TestWorkflowEnvironment;
  let harness: ProvisioningHarness;
  let running: Promise<void>;

  before(async () => {
    env = await createTimeSkippingEnv();
    const settings = parseSettings(
      {
        Connections: { constructor: simulatorConnection(simulator.sim)[CONNECTION] },
        TicketConnector: {
          DataDirectory: dataDir,
          ResourceTypeMappings: {
            toString: {
              Connection: 'constructor',
              CallerId: simulator.sim.credentials.login,
              TitleTemplate: '{{ChangeType}} {{ResourceType.Identifier}} via {{ConnectionId}}',
              DescriptionTemplate: 'Please grant it.',
            },
          },
        },
      },
      'test settings',
    );
    harness = await provisioningWorker(env, settings, 'prototype-names');
    running = harness.worker.run();
  });
  after(async () => {
    harness?.worker.shutdown();
    await running;
    await harness?.ledger.close();
    await env?.teardown();
  });

  test('an order runs through: ticket opened on that connection, closed, recorded Executed', async () => {
    const input = parseProvisioningInput({
      connection: 'constructor',
      order: {
        AssignedResourceTypeId: '1',
        ChangeType: 'Added',
        Owner: { Id: 42, Identifier: 'jdoe' },
        ResourceType: { Id: 7, Identifier: 'toString' },
      },
    });
    const started = await startOrder(env.client, input, { taskQueue: harness.taskQueue });
    const handle = env.client.workflow.getHandle<typeof provisioningWorkflow>(started.workflowId);
    const ticket = await waitFor('the ticket', async () => (await handle.query(statusQuery)).ticket);
    const opened = simulator.sim.instance
      .tickets(['incident'], 'all')
      .find((row) => row.number === ticket.number);
    assert.equal(opened?.short_description, 'Added toString via constructor');

    simulator.sim.instance.actOnTicket(ticket.number, { action: 'close' });
    const result = await handle.result();
    assert.equal(result.provisioningState, 'Executed');
    assert.equal(result.connection, 'constructor');
    assert.equal(result.resourceType, 'toString');
  });
});
