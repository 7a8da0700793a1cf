import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { ticketSweepWorkflowId } from '../../src/contract/names';
import { Closers } from '../../scripts/chaos/stack';
import { startSimulatorProcess, type RunningSimulator } from '../../scripts/chaos/simulatorProcess';
import { PersistedTemporalServer } from '../../scripts/chaos/temporalServer';
import { LedgerReader } from './ledger';
import { CONNECTION, writeBenchSettings, type ClosureSettings, type PollingSettings } from './settings';
import { startBareWorker, startConnectorWorker, type BenchWorker } from './workers';

/** A connector worker on its own task queue, with its own ledger. */
export interface ConnectorPart {
  readonly taskQueue: string;
  readonly worker: BenchWorker;
  readonly ledger: LedgerReader;
  /** Stops the worker and closes the ledger reader (the part's open orders stay on the server, idle). */
  stop(): Promise<void>;
}

/**
 * What every part runs against: the ServiceNow simulator and a Temporal dev server persisted to SQLite (as
 * `npm start` runs it), each in its own process, and a client. Each part starts its own worker on its own task
 * queue, so that its settings, its ledger and its RSS are its own.
 */
export class BenchStack {
  private readonly closers = new Closers();

  private constructor(
    readonly dir: string,
    readonly simulator: RunningSimulator,
    readonly server: PersistedTemporalServer,
    readonly client: Client,
    readonly say: (line: string) => void,
  ) {}

  static async start(say: (line: string) => void, dir?: string): Promise<BenchStack> {
    const root = dir ?? mkdtempSync(path.join(tmpdir(), 'snow-ticket-provisioning-bench-'));
    mkdirSync(path.join(root, 'logs'), { recursive: true });
    const closers = new Closers();
    try {
      const simulator = await startSimulatorProcess({ dir: path.join(root, 'logs'), randomSeed: 1 });
      closers.add(() => simulator.child.stop());
      const server = await PersistedTemporalServer.start(root);
      closers.add(() => server.stop());
      const connection = await Connection.connect({ address: server.address });
      closers.add(() => connection.close());
      const stack = new BenchStack(
        root,
        simulator,
        server,
        new Client({ connection, namespace: server.namespace }),
        say,
      );
      stack.closers.add(() => closers.closeAll());
      say(`simulator at ${simulator.url}, Temporal dev server at ${server.address} (${server.dbFile})`);
      return stack;
    } catch (error) {
      await closers.closeAll();
      throw error;
    }
  }

  get logDir(): string {
    return path.join(this.dir, 'logs');
  }

  /**
   * A simulator of part `name` alone (its log in the part's folder), posting change notifications to `notify`:
   * the shared one stays quiet, so that notifications never load the other parts. Stopped with the stack.
   */
  async startPartSimulator(
    name: string,
    notify: { readonly url: string; readonly secret: string },
  ): Promise<RunningSimulator> {
    const dir = this.partDir(name);
    const simulator = await startSimulatorProcess({ dir, randomSeed: 1, notify });
    this.closers.add(() => simulator.child.stop());
    return simulator;
  }

  /**
   * A connector worker for part `name`, polling as given, with a bounded workflow cache, against the shared
   * simulator unless given one, with push and the sweep off unless `closure` turns them on.
   */
  async startConnectorPart(
    name: string,
    options: {
      readonly polling: PollingSettings;
      readonly maxCachedWorkflows: number;
      readonly simulator?: RunningSimulator;
      readonly closure?: ClosureSettings;
    },
  ): Promise<ConnectorPart> {
    const { simulator = this.simulator, ...settings } = options;
    const dataDir = this.partDir(name);
    const taskQueue = `bench-${name}`;
    const settingsFile = writeBenchSettings(path.join(dataDir, 'settings.json'), {
      simulator,
      temporalAddress: this.server.address,
      taskQueue,
      dataDir,
      ...settings,
    });
    const sweeps = options.closure?.Sweep?.Enabled === 'true';
    const worker = await startConnectorWorker(name, settingsFile, this.logDir).catch(async (error) => {
      if (sweeps) await this.endSweep();
      throw error;
    });
    const ledger = new LedgerReader(path.join(dataDir, 'assignments.sqlite'));
    const stop = async () => {
      ledger.close();
      try {
        await worker.stop();
      } finally {
        if (sweeps) await this.endSweep();
      }
    };
    this.closers.add(stop);
    return { taskQueue, worker, ledger, stop };
  }

  /**
   * Ends the connection's sweep workflow: its id is the connection's, shared by every part, and the next part's
   * worker would otherwise attach to a sweep still bound to the stopped part's task queue.
   */
  private async endSweep(): Promise<void> {
    try {
      await this.client.workflow
        .getHandle(ticketSweepWorkflowId(CONNECTION))
        .terminate('the benchmark part that swept has ended');
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    }
  }

  private partDir(name: string): string {
    const dir = path.join(this.dir, name);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  async startBareWorker(name: string): Promise<{ readonly taskQueue: string; readonly worker: BenchWorker }> {
    const taskQueue = `bench-${name}`;
    const worker = await startBareWorker(name, this.server.address, taskQueue, this.logDir);
    this.closers.add(() => worker.stop());
    return { taskQueue, worker };
  }

  /** Stops every worker, the client, the server and the simulator. */
  async close(): Promise<void> {
    await this.closers.closeAll();
  }
}
