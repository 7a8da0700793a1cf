/**
 * `npm run chaos`: orders through the connector while its worker is SIGKILLed and the Temporal server restarted,
 * against a ServiceNow simulator injecting faults; then checks the invariants and prints figures. Exits 1 with
 * the list of violations if any invariant fails. See scripts/chaos/run.ts.
 */
import { rmSync } from 'node:fs';
import { Option, program } from 'commander';
import { duration, wholeNumber } from '../src/cli/cliOutput';
import { formatFigures } from './chaos/figures';
import { randomSeed } from './chaos/random';
import { runChaos } from './chaos/run';

interface CliOptions {
  orders: number;
  kills: number;
  serverRestarts: number;
  timeout: number;
  seed: number;
  keep?: boolean;
}

program
  .name('npm run chaos --')
  .description('run orders through the connector while killing its worker and restarting Temporal')
  .option('--orders <n>', 'orders to send', wholeNumber(1, 100_000), 300)
  .option('--kills <n>', 'worker SIGKILLs while orders are in flight', wholeNumber(0, 100), 3)
  .option(
    '--server-restarts <n>',
    'Temporal dev server restarts while orders are in flight',
    wholeNumber(0, 100),
    1,
  )
  .addOption(
    new Option('--timeout <duration>', 'overall bound of the run')
      .argParser(duration)
      .default(20 * 60_000, '20m'),
  )
  .addOption(new Option('--seed <n>', 'seed of every random choice').argParser(wholeNumber(0, 2 ** 31)))
  .option('--keep', 'keep the run folder (logs, databases, order files) even when no invariant failed')
  .addHelpText(
    'after',
    `
Runs the ServiceNow simulator (with faults), a Temporal dev server persisted to SQLite, the worker and
snow-ticket fulfill as child processes on loopback; writes order files, closes and cancels tickets as a
fulfiller would, SIGKILLs the worker and restarts the server while orders are in flight. Then checks that
every order completed with exactly one live ticket, and that the workflow result and the ledger match what
the fulfiller did (closed -> Executed, canceled -> Errored), and prints figures.

Exit codes: 0 no violation; 1 violations (listed; the run folder is kept) or the run could not be set up.`,
  )
  .action(async (options: CliOptions) => {
    const controller = new AbortController();
    const interrupt = (signal: NodeJS.Signals) => {
      // A second one exits at once; the exit handler still SIGKILLs every child (scripts/chaos/children.ts).
      if (controller.signal.aborted) process.exit(130);
      console.error(`${signal}: stopping the run and its processes (again to exit at once)...`);
      controller.abort();
    };
    process.on('SIGINT', interrupt);
    process.on('SIGTERM', interrupt);
    const result = await runChaos({
      orders: options.orders,
      kills: options.kills,
      serverRestarts: options.serverRestarts,
      timeoutMs: options.timeout,
      seed: options.seed ?? randomSeed(),
      signal: controller.signal,
    });
    console.log(`\nFigures\n${formatFigures(result.figures)}`);
    if (result.notes.length > 0)
      console.log(`\nNotes\n${result.notes.map((note) => `  - ${note}`).join('\n')}`);
    if (result.violations.length > 0) {
      console.log(
        `\n${result.violations.length} VIOLATIONS\n${result.violations.map((line) => `  - ${line}`).join('\n')}`,
      );
      console.log(`\nLogs, databases and order files kept in ${result.dir}`);
      process.exitCode = 1;
    } else if (options.keep === true) {
      console.log(`\nNo violations. Logs, databases and order files kept in ${result.dir}`);
    } else {
      console.log('\nNo violations.');
      rmSync(result.dir, { recursive: true, force: true });
    }
  });

program.parseAsync().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
