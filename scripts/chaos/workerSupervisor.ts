import type { Child } from './children';
import { startWorkerProcess } from './workerProcess';

const MAX_STARTS = 30;

/**
 * Keeps one connector worker process running: the chaos run SIGKILLs it on purpose and starts a new one; an exit
 * it did not cause is recorded (a finding) and the worker is started again.
 */
export class WorkerSupervisor {
  readonly unexpectedExits: string[] = [];
  private current: Child | undefined;
  private starts = 0;
  private killing = false;

  constructor(
    private readonly settingsFile: string,
    private readonly logDir: string,
  ) {}

  get started(): number {
    return this.starts;
  }

  /** Starts a worker and resolves once it polls. */
  async start(): Promise<void> {
    if (this.starts >= MAX_STARTS) throw new Error(`The worker was started ${MAX_STARTS} times: giving up`);
    this.starts += 1;
    const child = await startWorkerProcess(this.settingsFile, this.logDir, this.starts);
    void child.exited.then((exit) => {
      if (!this.killing && this.current === child) {
        this.unexpectedExits.push(`${child.name}: ${exit.signal ?? `exit ${exit.code}`}`);
      }
    });
    this.current = child;
  }

  /** Starts a worker again if the last one exited on its own. */
  async ensureRunning(): Promise<void> {
    if (this.current !== undefined && !this.current.isRunning()) await this.start();
  }

  /** SIGKILL: no shutdown, no drain, activities cut mid-call. Resolves once the process is gone. */
  async kill(): Promise<void> {
    const child = this.current;
    if (child === undefined) return;
    this.killing = true;
    try {
      child.kill('SIGKILL');
      await child.exited;
    } finally {
      this.killing = false;
    }
  }

  /** A graceful stop at the end of the run. */
  async stop(): Promise<void> {
    this.killing = true;
    await this.current?.stop(20_000);
  }
}
