import type { Random } from './random';
import type { PersistedTemporalServer } from './temporalServer';
import { pause } from './timing';
import type { WorkerSupervisor } from './workerSupervisor';

export type DisruptionKind = 'worker-kill' | 'server-restart';

export interface Disruption {
  readonly kind: DisruptionKind;
  /** When the worker was killed or the server stopped (epoch ms). */
  readonly at: number;
  /** When the new worker polled, or the server answered again. */
  readonly backAt: number;
  /** Orders running just before (-1 if unknown). */
  readonly inFlight: number;
}

export interface DisruptionDeps {
  readonly worker: WorkerSupervisor;
  readonly server: PersistedTemporalServer;
  readonly random: Random;
  readonly signal: AbortSignal;
  readonly inFlight: () => Promise<number>;
  /** Random wait before each disruption, in ms. */
  readonly gapMs: readonly [number, number];
  readonly onDisruption?: (done: Disruption) => void;
}

/**
 * Kills the worker (SIGKILL, then a new one after a short pause) and restarts the Temporal server, in a random
 * order at random moments. The caller starts it while orders are in flight and keeps some in flight until the
 * returned promise settles. Returns what was done; stops early when the signal aborts.
 */
export async function disrupt(
  plan: { readonly kills: number; readonly serverRestarts: number },
  deps: DisruptionDeps,
): Promise<Disruption[]> {
  const { random, signal } = deps;
  const kinds = random.shuffle<DisruptionKind>([
    ...Array<DisruptionKind>(plan.kills).fill('worker-kill'),
    ...Array<DisruptionKind>(plan.serverRestarts).fill('server-restart'),
  ]);
  const done: Disruption[] = [];
  for (const kind of kinds) {
    await pause(random.int(deps.gapMs[0], deps.gapMs[1]), signal);
    if (signal.aborted) break;
    const inFlight = await deps.inFlight().catch(() => -1);
    const at = Date.now();
    if (kind === 'worker-kill') {
      await deps.worker.kill();
      await pause(random.int(500, 3_000), signal);
      await deps.worker.start();
    } else {
      await deps.server.stop();
      await pause(random.int(1_000, 4_000), signal);
      await deps.server.start();
    }
    const disruption = { kind, at, backAt: Date.now(), inFlight };
    done.push(disruption);
    deps.onDisruption?.(disruption);
  }
  return done;
}
