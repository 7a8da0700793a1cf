import path from 'node:path';
import { after, before } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { openLedger, type SqliteLedger } from '../../src/assignments/sqliteLedger';
import { orderWorkflowId } from '../../src/client/provisioning';
import type { SettingsFile } from '../../src/config/schema';
import { createConnectorWorker, workerDataConverter } from '../../src/platform/connectorWorker';
import type { SimulatorHandle } from '../../src/simulator/server';
import { tempDir, writeJson } from './files';
import { useSimulator } from './simulator';
import { workflowBundle } from './temporal';
import { simulatorSettings, type TicketConnectorOverrides } from '../../scripts/harness/simulatorSettings';

export {
  CONNECTION,
  RESOURCE_TYPES,
  simulatorConnection,
  simulatorSettings,
  testOrder,
} from '../../scripts/harness/simulatorSettings';

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
  const worker = await connectorWorker(env, settings, taskQueue, ledger);
  return { settings, ledger, worker, taskQueue };
}

/** The connector's worker (not yet running) on `taskQueue`, recording assignments into `ledger`. */
export async function connectorWorker(
  env: TestWorkflowEnvironment,
  settings: SettingsFile,
  taskQueue: string,
  ledger: SqliteLedger,
): Promise<Worker> {
  return createConnectorWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    settings,
    assignments: ledger,
    workflowBundle: await workflowBundle(workerDataConverter(taskQueue, settings).failureConverterPath),
  });
}

export interface ProvisioningEnvFixture {
  readonly sim: SimulatorHandle;
  /** The settings' DataDirectory: the workers' ledgers are kept there. */
  readonly dataDir: string;
  readonly env: TestWorkflowEnvironment;
  /** A worker on its own task queue, running in the background until the enclosing describe ends. */
  readonly startWorker: (
    taskQueue: string,
    overrides?: TicketConnectorOverrides,
  ) => Promise<ProvisioningHarness>;
}

/**
 * A simulator and a Temporal server (`createEnv`) for the enclosing describe. When it ends, the workers started
 * on them shut down while the server they poll is still up, and close their ledgers; then the server goes.
 */
export function useProvisioningEnv(
  createEnv: () => Promise<TestWorkflowEnvironment>,
): ProvisioningEnvFixture {
  const simulator = useSimulator();
  const dataDir = tempDir();
  let env: TestWorkflowEnvironment | undefined;
  const workers: { harness: ProvisioningHarness; running: Promise<void> }[] = [];
  before(async () => {
    env = await createEnv();
  });
  after(async () => {
    for (const { harness, running } of workers) {
      harness.worker.shutdown();
      await running;
      await harness.ledger.close();
    }
    await env?.teardown();
  });
  const started = (): TestWorkflowEnvironment => {
    if (env === undefined) throw new Error('The Temporal server is used before its before() hook ran');
    return env;
  };
  return {
    get sim() {
      return simulator.sim;
    },
    dataDir,
    get env() {
      return started();
    },
    startWorker: async (taskQueue, overrides = {}) => {
      const settings = simulatorSettings(simulator.sim, dataDir, overrides);
      const harness = await provisioningWorker(started(), settings, taskQueue);
      workers.push({ harness, running: harness.worker.run() });
      return harness;
    },
  };
}

export interface ProvisioningWorkerFixture extends ProvisioningEnvFixture {
  readonly harness: ProvisioningHarness;
  /**
   * Writes settings that point CLI commands at the server and the worker's task queue, and returns the file.
   * `TicketConnector` merges into that section; other sections are written as given.
   */
  readonly writeCliSettings: (sections?: {
    readonly TicketConnector?: Record<string, unknown>;
    readonly [section: string]: unknown;
  }) => string;
}

/** {@link useProvisioningEnv} with one worker on `taskQueue`, started in before(). */
export function useProvisioningWorker(options: {
  readonly createEnv: () => Promise<TestWorkflowEnvironment>;
  readonly taskQueue: string;
  readonly settings?: TicketConnectorOverrides;
}): ProvisioningWorkerFixture {
  const fixture = useProvisioningEnv(options.createEnv);
  let harness: ProvisioningHarness | undefined;
  before(async () => {
    harness = await fixture.startWorker(options.taskQueue, options.settings);
  });
  return {
    get sim() {
      return fixture.sim;
    },
    dataDir: fixture.dataDir,
    get env() {
      return fixture.env;
    },
    startWorker: fixture.startWorker,
    get harness() {
      if (harness === undefined) throw new Error('The worker is used before its before() hook ran');
      return harness;
    },
    writeCliSettings: ({ TicketConnector, ...sections } = {}) => {
      const { env } = fixture;
      return writeJson(fixture.dataDir, 'cli-settings.json', {
        ...sections,
        TicketConnector: {
          DataDirectory: fixture.dataDir,
          Temporal: {
            Address: env.address,
            Namespace: env.namespace ?? 'default',
            TaskQueue: options.taskQueue,
          },
          ...TicketConnector,
        },
      });
    },
  };
}

export { orderWorkflowId };
