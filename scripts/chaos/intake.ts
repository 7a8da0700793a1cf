import path from 'node:path';
import { CONNECTION } from './connectorSettings';
import { childEnv, startNodeChild, type Child } from './children';

const MAX_STARTS = 20;

interface PassReport {
  readonly files?: readonly { readonly kind?: string; readonly orders?: readonly StartedOrder[] }[];
}

interface StartedOrder {
  readonly workflowId: string;
  readonly assignmentId: string;
}

/**
 * `snow-ticket fulfill` watching the orders folder, as Identity Manager's side runs it, restarted if it exits.
 * Its JSON pass reports say which workflow each order was started (or attached) as.
 */
export class OrderIntake {
  /** Assignment id → workflow id, for every start the server acknowledged. */
  readonly workflowIds = new Map<string, string>();
  /** Files moved to `failed/` (invalid): there should be none. */
  readonly invalidFiles: string[] = [];
  readonly unexpectedExits: string[] = [];
  private child: Child | undefined;
  private starts = 0;
  private stopping = false;

  constructor(
    private readonly settingsFile: string,
    private readonly ordersDir: string,
    private readonly logDir: string,
  ) {}

  get restarts(): number {
    return Math.max(0, this.starts - 1);
  }

  /** Starts `fulfill`, or starts it again if it exited on its own (bounded). */
  ensureRunning(): void {
    if (this.stopping || this.child?.isRunning() === true || this.starts >= MAX_STARTS) return;
    this.starts += 1;
    // prettier-ignore
    const args = [
      '--config', this.settingsFile, 'fulfill', '--orders-dir', this.ordersDir, '--connection', CONNECTION,
      '--interval', '1s', '--settle', '300ms', '--timeout', '10s', '--json',
    ];
    const child = startNodeChild(`fulfill ${this.starts}`, 'src/cli/main.ts', args, {
      env: childEnv(),
      logFile: path.join(this.logDir, `fulfill-${this.starts}.log`),
    });
    child.onLine((line) => this.read(line));
    void child.exited.then((exit) => {
      if (!this.stopping) this.unexpectedExits.push(`${child.name}: ${exit.signal ?? `exit ${exit.code}`}`);
    });
    this.child = child;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.child?.stop(10_000);
  }

  private read(line: string): void {
    if (!line.startsWith('{')) return;
    let report: PassReport;
    try {
      report = JSON.parse(line) as PassReport;
    } catch {
      return;
    }
    for (const file of report.files ?? []) {
      if (file.kind === 'invalid') this.invalidFiles.push(line);
      for (const order of file.orders ?? []) this.workflowIds.set(order.assignmentId, order.workflowId);
    }
  }
}
