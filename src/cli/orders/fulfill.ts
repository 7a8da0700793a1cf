import { formatDuration } from '../../contract/durations';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Option, type Command } from 'commander';
import type { StartedOrder } from '../../client/provisioning';
import { messageOf } from '../../client/session';
import {
  DEFAULT_SETTLE_MS,
  processOrdersFolder,
  watchOrdersFolder,
  type FileOutcome,
  type PassReport,
} from '../../provisioning/orderFiles';
import { connectionId, durationOption, durationOrZero, plural, usageErrorsExit2 } from '../cliOutput';
import { CliError } from '../errors';
import { loadCliConfig } from '../loadCliConfig';
import { openTemporal } from '../temporalClient';
import { boundedStart, startedJson, startedLines, warnUnknownConnections } from './shared';

/**
 * `fulfill`: starts the orders Identity Manager writes into a folder, file by file, once or every interval; the
 * folder's rules (settling, moves, retries) are in `src/provisioning/orderFiles.ts`.
 */

function relative(dir: string, file: string): string {
  return path.relative(dir, file) || file;
}

function outcomeLines(dir: string, outcome: FileOutcome<StartedOrder>): string[] {
  switch (outcome.kind) {
    case 'processed': {
      const attached = outcome.started.filter(({ result }) => !result.started).length;
      const counts = `${outcome.started.length - attached} started, ${attached} attached`;
      return [
        `processed  ${outcome.file}: ${plural(outcome.started.length, 'order')} (${counts}) -> ${relative(dir, outcome.movedTo)}`,
        ...outcome.started.flatMap(({ input, result }) => startedLines(input, result, '             ')),
      ];
    }
    case 'invalid':
      return [
        `invalid    ${outcome.file}: ${plural(outcome.problems.length, 'problem')}, nothing started -> ` +
          `${relative(dir, outcome.movedTo)} (see ${relative(dir, outcome.errorFile)})`,
        ...outcome.problems.map((problem) => `             - ${problem}`),
      ];
    case 'retry':
      return [
        outcome.failedOrder === undefined
          ? `retry      ${outcome.file}: ${outcome.reason}; the file stays for the next pass`
          : `retry      ${outcome.file}: order ${outcome.failedOrder + 1} of ${outcome.total} was not started ` +
            `(${outcome.reason}); the file stays and is retried whole on the next pass`,
      ];
    case 'unreadable':
      return [`unreadable ${outcome.file}: ${outcome.reason}`];
  }
}

function passJson(report: PassReport<StartedOrder>) {
  return {
    files: report.files.map((outcome) => {
      if (outcome.kind === 'processed' || outcome.kind === 'retry') {
        const { started, ...rest } = outcome;
        return { ...rest, orders: started.map(({ input, result }) => startedJson(input, result)) };
      }
      return outcome;
    }),
    settling: report.settling,
    notReached: report.notReached,
    ...(report.stoppedBy !== undefined && { stoppedBy: report.stoppedBy }),
  };
}

function printPass(
  dir: string,
  report: PassReport<StartedOrder>,
  options: { json?: boolean; stamp: boolean },
): void {
  if (options.json) {
    console.log(JSON.stringify({ at: new Date().toISOString(), ...passJson(report) }));
    return;
  }
  const prefix = options.stamp ? `${new Date().toISOString()} ` : '';
  for (const outcome of report.files) {
    const lines = outcomeLines(dir, outcome);
    const print = outcome.kind === 'processed' ? console.log : console.error;
    for (const line of lines) print(`${prefix}${line}`);
  }
  if (report.notReached.length > 0) {
    console.error(
      `${prefix}waiting    ${report.notReached.join(', ')}: not reached in this pass (order is kept)`,
    );
  }
}

interface FulfillOptions {
  ordersDir: string;
  connection: string;
  once?: boolean;
  interval: number;
  settle: number;
  timeout: number;
  by: string;
  json?: boolean;
}

export function registerFulfill(program: Command): void {
  usageErrorsExit2(
    program
      .command('fulfill')
      .summary('start the orders Identity Manager writes into a folder, file by file')
      .description(
        'start the orders of the Identity Manager order files (*.json) written into a folder; processed files move to processed/, invalid ones to failed/',
      )
      .requiredOption('--orders-dir <dir>', 'the folder Identity Manager writes its order files into')
      .addOption(
        new Option('--connection <id>', 'ServiceNow connection the orders are for (a key of Connections)')
          .argParser(connectionId)
          .makeOptionMandatory(),
      )
      .option('--once', 'process the folder once and exit (for cron jobs and tests)')
      .addOption(durationOption('--interval <duration>', 'wait between two passes', 10_000))
      .addOption(
        durationOption(
          '--settle <duration>',
          'leave files modified more recently than this for a later pass (0s: take every file at once)',
          DEFAULT_SETTLE_MS,
          durationOrZero,
        ),
      )
      .addOption(
        durationOption(
          '--timeout <duration>',
          'give up on one start after this long (the file is retried)',
          30_000,
        ),
      )
      .option('--by <who>', 'who asks, kept when a Deleted order revokes pending grants', 'Identity Manager')
      .option('--json', 'one JSON report per pass, one line each')
      .addHelpText(
        'after',
        `
How a file is handled, oldest first (by modification time, then name):
  - only *.json files are taken (write "orders.tmp", then rename it to "orders.json"), and only once
    they have not been modified for --settle (1s by default), so a file still being written is left alone;
  - every order is validated first; a file with any problem moves to failed/ with <name>.error.txt next
    to it listing every problem, and none of its orders is started;
  - otherwise each order is started; the file moves to processed/ only when the server acknowledged every
    start (started, or attached to the run of the same order). If a start fails, the file stays and the
    pass stops (a later file never overtakes it); the next pass starts all its orders again, which attaches
    to those already started: nothing is lost or duplicated, even after a crash.
  - moves are renames inside the folder; a name taken in processed/ or failed/ gets a suffix (orders-1.json).
Run one fulfill per folder. Ctrl-C (SIGINT) or SIGTERM stops after the current start; a second one exits at once.

Exit codes (--once): 0 every ready file was processed or moved to failed/; 1 a file was left for a
retry (a start failed); 2 bad options or no such folder.

Examples:
  $ snow-ticket fulfill --orders-dir /var/lib/identitymanager/orders --connection Main
  $ snow-ticket fulfill --orders-dir ./orders --connection Main --once --json
  $ snow-ticket fulfill --orders-dir ./orders --connection Main --interval 30s`,
      )
      .action(async (options: FulfillOptions, command: Command) => {
        const dir = path.resolve(options.ordersDir);
        const isFolder = await stat(dir).then(
          (stats) => stats.isDirectory(),
          () => false,
        );
        if (!isFolder) throw new CliError(`The orders folder ${dir} does not exist or is not a folder`, 2);
        const { settings } = await loadCliConfig(command);
        warnUnknownConnections(settings, [options.connection]);
        // Lazy: a Temporal server that is down or restarting fails starts (files are retried), not the command.
        const session = await openTemporal(settings, { lazy: true });
        const controller = new AbortController();
        let interrupts = 0;
        const onSignal = (signal: NodeJS.Signals) => {
          interrupts += 1;
          if (interrupts > 1) process.exit(130);
          console.error(
            `${signal}: stopping (files not fully started stay in place and are retried on the next run)`,
          );
          controller.abort();
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        try {
          const folder = {
            dir,
            connection: options.connection,
            settleMs: options.settle,
            signal: controller.signal,
            start: boundedStart(session, {
              timeoutMs: options.timeout,
              requestedBy: options.by,
              signal: controller.signal,
              settings,
            }),
          };
          if (options.once) {
            const report = await processOrdersFolder(folder);
            printPass(dir, report, { json: options.json, stamp: false });
            if (!options.json && report.files.length === 0 && report.notReached.length === 0) {
              console.log(
                report.settling.length === 0
                  ? `No order files waiting in ${dir}.`
                  : `No order files ready in ${dir}; ${plural(report.settling.length, 'file')} modified in the last ${formatDuration(options.settle)} left for the next pass.`,
              );
            }
            const left = report.files.filter(
              (outcome) => outcome.kind === 'retry' || outcome.kind === 'unreadable',
            );
            if (left.length > 0 || report.stoppedBy !== undefined) {
              throw new CliError(
                `${plural(left.length + report.notReached.length, 'file')} left in ${dir} for the next pass.`,
              );
            }
            return;
          }
          if (!options.json) {
            console.log(
              `Watching ${dir} every ${formatDuration(options.interval)} for orders of connection ${options.connection} ` +
                `(Temporal ${session.target.address}, namespace ${session.target.namespace}, task queue ${session.target.taskQueue}). Ctrl-C stops.`,
            );
          }
          await watchOrdersFolder({
            ...folder,
            signal: controller.signal,
            intervalMs: options.interval,
            onPass: (report) => printPass(dir, report, { json: options.json, stamp: true }),
            onError: (error) =>
              console.error(`${new Date().toISOString()} cannot read ${dir}: ${messageOf(error)}`),
          });
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          await session.close();
        }
      }),
  );
}
