import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { writeConnectorSettings } from './connectorSettings';
import { OrderIntake } from './intake';
import type { Faults } from './simulatorAdmin';
import { startSimulatorProcess, type RunningSimulator } from './simulatorProcess';
import { PersistedTemporalServer } from './temporalServer';
import { WorkerSupervisor } from './workerSupervisor';

/** Things to stop at the end of a run, last started first; each is stopped even if another fails. */
export class Closers {
  private readonly closers: (() => Promise<unknown>)[] = [];

  add(close: () => Promise<unknown>): void {
    this.closers.push(close);
  }

  async closeAll(): Promise<void> {
    for (const close of this.closers.splice(0).reverse()) await close().catch(() => undefined);
  }
}

export interface StackFolders {
  readonly root: string;
  readonly logs: string;
  /** The worker's DataDirectory (the assignment ledger). */
  readonly data: string;
  /** Where Identity Manager's order files go. */
  readonly orders: string;
}

export interface ChaosStack {
  readonly simulator: RunningSimulator;
  readonly server: PersistedTemporalServer;
  readonly client: Client;
  readonly worker: WorkerSupervisor;
  readonly intake: OrderIntake;
  readonly settingsFile: string;
  readonly taskQueue: string;
}

/**
 * Everything a chaos run drives, started in order: the simulator (faults on), the persisted Temporal dev server,
 * the settings file, a client, the worker (polling) and `fulfill` on the orders folder. Each is registered with
 * `closers` as soon as it runs, so that a failure halfway still stops what was started.
 */
export async function startStack(
  folders: StackFolders,
  options: { readonly seed: number; readonly faults: Faults; readonly say: (line: string) => void },
  closers: Closers,
): Promise<ChaosStack> {
  const { say } = options;
  const simulator = await startSimulatorProcess({ dir: folders.logs, randomSeed: options.seed });
  closers.add(() => simulator.child.stop());
  await simulator.admin.setFaults(options.faults);
  say(`simulator at ${simulator.url}, faults ${JSON.stringify(options.faults)}`);

  const server = await PersistedTemporalServer.start(folders.root);
  closers.add(() => server.stop());
  say(`Temporal dev server at ${server.address}, persisted to ${server.dbFile}`);

  const taskQueue = 'chaos';
  const settingsFile = writeConnectorSettings(path.join(folders.root, 'settings.json'), {
    simulator,
    temporalAddress: server.address,
    taskQueue,
    dataDir: folders.data,
  });
  const connection = await Connection.connect({ address: server.address });
  closers.add(() => connection.close());
  const client = new Client({ connection, namespace: server.namespace });

  const worker = new WorkerSupervisor(settingsFile, folders.logs);
  closers.add(() => worker.stop());
  await worker.start();
  say('worker 1 polling');

  const intake = new OrderIntake(settingsFile, folders.orders, folders.logs);
  closers.add(() => intake.stop());
  intake.ensureRunning();
  return { simulator, server, client, worker, intake, settingsFile, taskQueue };
}
