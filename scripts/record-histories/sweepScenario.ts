import path from 'node:path';
import { openLedger } from '../../src/assignments/sqliteLedger';
import { fetchRunHistories } from '../../src/client/histories';
import { startOrder } from '../../src/client/provisioning';
import { ensureTicketSweeps } from '../../src/client/sweeps';
import { statusQuery } from '../../src/contract/messages';
import { ticketSweepWorkflowId } from '../../src/contract/names';
import { createConnectorWorker } from '../../src/platform/connectorWorker';
import type { provisioningWorkflow, ticketSweepWorkflow } from '../../src/workflows';
import { CONNECTION, RESOURCE_TYPES, simulatorSettings, testOrder } from '../harness/simulatorSettings';
import { createTimeSkippingEnv, workflowBundle } from '../harness/temporalServers';
import { waitFor } from '../harness/waitFor';
import { startClockedSimulator } from './clockedSimulator';
import { writeRunHistories } from './historyFiles';
import type { SweepScenario } from './scenarios';

/**
 * How the sweep scenario is recorded: a time-skipping server (the sweep continues as new only after SWEEPS_PER_RUN
 * intervals), the simulator with its clock kept with the server's, and one connector worker on the scenario's task
 * queue running both the sweep and the order it tells. The sweep is started as the worker processes start it,
 * under its fixed workflow id; every run of that id is recorded.
 */
export async function recordSweepScenario(
  outDir: string,
  dataDir: string,
  scenario: SweepScenario,
): Promise<string[]> {
  const { sim, sleep } = await startClockedSimulator();
  const env = await createTimeSkippingEnv();
  const taskQueue = `record-${scenario.release}-${scenario.name}`;
  const settings = simulatorSettings(sim, dataDir, scenario.settings);
  const ledger = openLedger(path.join(dataDir, `${taskQueue}.sqlite`));
  const worker = await createConnectorWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    settings,
    assignments: ledger,
    workflowBundle: await workflowBundle(),
  });
  const running = worker.run();
  try {
    const sweepId = ticketSweepWorkflowId(CONNECTION);
    await scenario.run({
      sim,
      sleep: (ms) => sleep(env, ms),
      async startOrder(assignmentId) {
        const input = testOrder(RESOURCE_TYPES.incident, { AssignedResourceTypeId: assignmentId });
        const started = await startOrder(env.client, input, { taskQueue });
        const handle = env.client.workflow.getHandle<typeof provisioningWorkflow>(started.workflowId);
        const ticket = await waitFor(
          `the ticket of ${handle.workflowId}`,
          async () => (await handle.query(statusQuery)).ticket,
        );
        return { handle, ticket };
      },
      async startSweep() {
        const sweeps = await ensureTicketSweeps(env.client, settings, taskQueue);
        if (!sweeps.running.some((sweep) => sweep.workflowId === sweepId)) {
          throw new Error(`${scenario.name}: no sweep was started for ${CONNECTION}; check its settings`);
        }
        return env.client.workflow.getHandle<typeof ticketSweepWorkflow>(sweepId);
      },
    });
    return writeRunHistories(outDir, scenario.name, await fetchRunHistories(env.client, sweepId));
  } finally {
    worker.shutdown();
    await running;
    await env.teardown();
    await ledger.close();
    await sim.close();
  }
}
