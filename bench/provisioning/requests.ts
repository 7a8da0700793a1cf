import type { RequestCounts } from '../../src/simulator/stats';
import type { BenchStack } from './stack';

/** The requests the shared simulator answered while `during` ran, in all and by method and target. */
export async function countRequests(
  stack: BenchStack,
  during: () => Promise<unknown>,
): Promise<{ readonly requests: number; readonly byTarget: Readonly<Record<string, number>> }> {
  // The chaos helper's type names only what chaos reads; the simulator answers the whole RequestCounts.
  const counts = async () => (await stack.simulator.admin.requestCounts()) as RequestCounts;
  const before = await counts();
  await during();
  const after = await counts();
  return {
    requests: after.total - before.total,
    byTarget: Object.fromEntries(
      Object.entries(after.byMethodAndTarget)
        .map(([target, count]): [string, number] => [target, count - (before.byMethodAndTarget[target] ?? 0)])
        .filter(([, count]) => count !== 0),
    ),
  };
}
