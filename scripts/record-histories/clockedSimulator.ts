import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startSimulator, type SimulatorHandle } from '../../src/simulator/server';

export interface ClockedSimulator {
  readonly sim: SimulatorHandle;
  /**
   * Skips `env`'s server time, then sets the simulator's clock to the server's, so that ticket dates
   * (sys_updated_on, which the sweep's watermark is made of) match the times in the history.
   */
  readonly sleep: (env: TestWorkflowEnvironment, ms: number) => Promise<void>;
}

/** The ServiceNow simulator of a recording, its clock at the wall clock's until the first sleep moves it. */
export async function startClockedSimulator(): Promise<ClockedSimulator> {
  let offsetMs = 0;
  const sim = await startSimulator({
    port: 0,
    randomSeed: 1,
    now: () => new Date(Date.now() + offsetMs),
  });
  return {
    sim,
    async sleep(env, ms) {
      await env.sleep(ms);
      offsetMs = (await env.currentTimeMs()) - Date.now();
    },
  };
}
