import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatFigures } from '../../scripts/chaos/figures';
import { runChaos } from '../../scripts/chaos/run';
import { tempDir } from '../helpers/files';

/**
 * `npm run chaos` in small: 20 orders through a worker SIGKILL and a Temporal server restart, with ServiceNow
 * faults. Asserts the invariants only (completion, one live ticket per order, outcomes in the workflow result and
 * the ledger); timings are printed. The bound is a safety net: the run normally ends long before it.
 */
test('chaos: 20 orders survive a worker kill and a server restart with every invariant kept', async () => {
  const lines: string[] = [];
  const result = await runChaos({
    orders: 20,
    kills: 1,
    serverRestarts: 1,
    timeoutMs: 8 * 60_000,
    seed: 20_240_501,
    dir: tempDir('snow-ticket-chaos-test-'),
    log: (line) => lines.push(line),
  });
  console.log(formatFigures(result.figures));
  for (const note of result.notes) console.log(`  note: ${note}`);
  assert.deepEqual(result.violations, [], `chaos run log:\n${lines.join('\n')}`);
  assert.equal(result.figures.completed, 20);
  assert.equal(result.figures.workerKills + result.figures.serverRestarts, 2, 'both disruptions happened');
});
