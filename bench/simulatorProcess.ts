import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';

/** The admin password the benchmarks give the simulator they start. */
export const BENCH_PASSWORD = 'bench-Pa55word';

export interface SimulatorProcess {
  readonly url: string;
  readonly process: ChildProcess;
}

export function benchAuthorization(): string {
  return `Basic ${Buffer.from(`admin:${BENCH_PASSWORD}`).toString('base64')}`;
}

/**
 * The simulator in its own process, so that the load and the memory measured are the benchmark's alone.
 * `nodeOptions` go to Node before the script (a larger heap for millions of rows).
 */
export async function startSimulatorProcess(nodeOptions: readonly string[] = []): Promise<SimulatorProcess> {
  const child = spawn(
    process.execPath,
    [
      ...nodeOptions,
      '--import',
      'tsx',
      path.join(__dirname, '../src/simulator/main.ts'),
      '--port',
      '0',
      '--admin-password',
      BENCH_PASSWORD,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const timer = setTimeout(() => child.kill(), 30_000);
  for await (const line of lines) {
    const url = /listening on (http:\/\/\S+)/.exec(line)?.[1];
    if (url !== undefined) {
      clearTimeout(timer);
      // Keep draining its output (request logs, if any) so that the child never blocks on a full pipe.
      lines.on('line', () => undefined);
      return { url, process: child };
    }
  }
  throw new Error('The simulator did not start');
}
