import path from 'node:path';
import { childEnv, startNodeChild, type Child } from './children';

/** Bundling the workflow code dominates a worker's start: generous for a loaded 2-core machine. */
const WORKER_READY_TIMEOUT_MS = 180_000;

/**
 * Starts the connector's worker (`src/worker.ts`) as its own process with the given settings file, and resolves
 * once it polls the task queue. `n` numbers the log file (`worker-<n>.log`).
 */
export async function startWorkerProcess(settingsFile: string, logDir: string, n: number): Promise<Child> {
  const child = startNodeChild(`worker ${n}`, 'src/worker.ts', [], {
    env: childEnv({ SNOW_CONNECTOR_CONFIG: settingsFile }),
    logFile: path.join(logDir, `worker-${n}.log`),
  });
  try {
    await child.waitForLine(/^Worker polling task queue/, WORKER_READY_TIMEOUT_MS);
    return child;
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
}
