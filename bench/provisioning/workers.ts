import { readFileSync } from 'node:fs';
import path from 'node:path';
import { childEnv, startNodeChild, type Child } from '../../scripts/chaos/children';

/** Bundling the workflow code dominates a worker's start: generous for a loaded 2-core machine. */
const READY_TIMEOUT_MS = 180_000;
const SCRIPT = 'bench/provisioning/workerMain.ts';

/** A worker process of the benchmark: its memory is read from /proc, so that it is this process's alone. */
export interface BenchWorker {
  readonly name: string;
  readonly child: Child;
  /** Resident set now and its peak so far (VmRSS, VmHWM), in bytes. */
  memory(): { readonly rss: number; readonly peakRss: number };
  stop(): Promise<void>;
}

/** The connector's worker (src/worker.ts) with the given settings file. */
export function startConnectorWorker(
  name: string,
  settingsFile: string,
  logDir: string,
): Promise<BenchWorker> {
  return startWorker(name, ['connector'], logDir, { SNOW_CONNECTOR_CONFIG: settingsFile });
}

/** The bare one-activity workflow's worker (bench/provisioning/bare). */
export function startBareWorker(
  name: string,
  address: string,
  taskQueue: string,
  logDir: string,
): Promise<BenchWorker> {
  return startWorker(name, ['bare', address, taskQueue], logDir, {});
}

async function startWorker(
  name: string,
  args: readonly string[],
  logDir: string,
  env: Record<string, string>,
): Promise<BenchWorker> {
  const child = startNodeChild(`worker ${name}`, SCRIPT, args, {
    env: childEnv(env),
    logFile: path.join(logDir, `worker-${name}.log`),
  });
  try {
    await child.waitForLine(/^Worker polling/, READY_TIMEOUT_MS);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    name,
    child,
    memory: () => processMemory(child.pid),
    stop: async () => {
      await child.stop(20_000);
    },
  };
}

/** VmRSS and VmHWM of a Linux process. */
export function processMemory(pid: number): { rss: number; peakRss: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kib('VmRSS') * 1024, peakRss: kib('VmHWM') * 1024 };
}
