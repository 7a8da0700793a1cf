import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import { openLedger } from '../../src/assignments/sqliteLedger';
import { fetchRunHistories } from '../../src/client/histories';
import { startOrder } from '../../src/client/provisioning';
import { statusQuery } from '../../src/contract/messages';
import { createConnectorWorker } from '../../src/platform/connectorWorker';
import type { CloseOutcome, TicketAction } from '../../src/simulator/ticketActions';
import type { provisioningWorkflow } from '../../src/workflows';
import { RESOURCE_TYPES, simulatorSettings, testOrder } from '../harness/simulatorSettings';
import {
  createDevServerEnv,
  createTimeSkippingEnv,
  quietLogger,
  workflowBundle,
} from '../harness/temporalServers';
import { waitFor } from '../harness/waitFor';
import { startClockedSimulator } from './clockedSimulator';
import { writeRunHistories } from './historyFiles';
import { recordPasswordScenario } from './passwordScenario';
import { recordSweepScenario } from './sweepScenario';
import type { Scenario, TicketScenario } from './scenarios';

/** How one scenario is recorded: its own Temporal server, simulator, worker and ledger. */

export const ROOT = path.resolve(__dirname, '..', '..');

/**
 * The workflow code of an older commit, bundled as its workers would have: its src/ is extracted inside this
 * checkout (so that it resolves this checkout's node_modules) and bundled from there.
 */
async function bundleOfCommit(commit: string): Promise<WorkflowBundle> {
  const dir = path.join(ROOT, '.histories-build', commit);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  execFileSync('sh', ['-c', `git archive ${commit} src | tar -x -C "${dir}"`], { cwd: ROOT });
  try {
    return await bundleWorkflowCode({
      workflowsPath: path.join(dir, 'src', 'workflows'),
      logger: quietLogger,
    });
  } finally {
    rmSync(path.join(ROOT, '.histories-build'), { recursive: true, force: true });
  }
}

/**
 * One Temporal server (time-skipping unless the scenario says otherwise) and one simulator per scenario: the
 * server's clock starts at the wall clock's time (a shared server would leap years ahead between scenarios
 * while it skips to the timeouts of finished ones), and a scenario that takes the connector's roles away leaves
 * the next one untouched.
 */
export async function recordScenario(outDir: string, dataDir: string, scenario: Scenario): Promise<string[]> {
  switch (scenario.kind) {
    case 'password':
      return recordPasswordScenario(outDir, dataDir, scenario);
    case 'sweep':
      return recordSweepScenario(outDir, dataDir, scenario);
    default:
      return recordTicketScenario(outDir, dataDir, scenario);
  }
}

/** An order on the configured task queue, which the scenario drives once its ticket is open (or before). */
async function recordTicketScenario(
  outDir: string,
  dataDir: string,
  scenario: TicketScenario,
): Promise<string[]> {
  const { sim, sleep } = await startClockedSimulator();
  const env = scenario.devServer === true ? await createDevServerEnv() : await createTimeSkippingEnv();
  const taskQueue = `record-${scenario.release}-${scenario.name}`;
  const settings = simulatorSettings(sim, dataDir, scenario.settings);
  const ledger = openLedger(path.join(dataDir, `${taskQueue}.sqlite`));
  const current = await workflowBundle();
  const startWorker = async (bundle: WorkflowBundle) => {
    const worker = await createConnectorWorker({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      settings,
      assignments: ledger,
      workflowBundle: bundle,
    });
    return { worker, running: worker.run() };
  };
  let active = await startWorker(
    scenario.startedBy === undefined ? current : await bundleOfCommit(scenario.startedBy),
  );
  const stopWorker = async () => {
    active.worker.shutdown();
    await active.running;
  };
  try {
    // As Identity Manager starts it: snow-ticket's client.
    const input = testOrder(RESOURCE_TYPES.incident, {
      AssignedResourceTypeId: scenario.assignmentId,
      ...scenario.order,
    });
    const started = await startOrder(env.client, input, { taskQueue });
    const handle = env.client.workflow.getHandle<typeof provisioningWorkflow>(started.workflowId);
    const context = {
      sim,
      handle,
      sleep: (ms: number) => sleep(env, ms),
      act: (
        number: string,
        action: TicketAction,
        options: { outcome?: CloseOutcome; notes?: string } = {},
      ) => {
        sim.instance.actOnTicket(number, { action, ...options });
      },
      upgrade: async () => {
        await stopWorker();
        active = await startWorker(current);
      },
    };
    if (scenario.beforeTicket === true) {
      await scenario.run(context);
    } else {
      // Waited for in real time, so that the server's clock stays put until the scenario moves it.
      const ticket = await waitFor(
        `the ticket of ${handle.workflowId}`,
        async () => (await handle.query(statusQuery)).ticket,
      );
      await scenario.run({ ...context, ticket });
    }
    return writeRunHistories(outDir, scenario.name, await fetchRunHistories(env.client, handle.workflowId));
  } finally {
    await stopWorker();
    await env.teardown();
    await ledger.close();
    await sim.close();
  }
}
