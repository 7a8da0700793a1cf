import { type Command } from 'commander';
import {
  exportRun,
  NotAnExportError,
  runningExports,
  startExport,
  WorkflowExecutionAlreadyStartedError,
  type ExportRunHandle,
} from '../../client/exportRuns';
import { printJson, usageErrorsExit2 } from '../cliOutput';
import { CliError } from '../errors';
import { loadCliConfig } from '../loadCliConfig';
import { withTemporal } from '../temporalClient';
import { followAndReport } from './follow';
import { time } from './format';
import { exportInput, inputOptions, resolveConnection, type InputOptions } from './options';

/** `export` (`export run`): starts an export and follows it; `export watch`: follows one started elsewhere. */

interface ExportOptions extends InputOptions {
  progress: boolean;
  json?: boolean;
  detach?: boolean;
}

const EXPORT_EXAMPLES = `Examples:
  $ snow-ticket export                                   # the only connection, with progress bars
  $ snow-ticket export --connection Main --complete      # every row of every table
  $ snow-ticket export --connection Main --tables sys_user,sys_user_grmember --out /srv/idm/in   # beneath Exports.OutputDirectory
  $ snow-ticket export --connection Main --no-progress --json > result.json
  $ snow-ticket export --connection Main --detach        # prints the workflow id and returns
  $ snow-ticket export watch export:Main:2024-05-01T10:00:00.000Z
  $ snow-ticket export schedule create --connection Main --every 1h   # periodic: see export schedule --help`;

const EXPORT_NOTES = `The export runs in the worker, not in this command: Ctrl-C stops following it, not the export
(follow it again with "snow-ticket export watch <workflow id>"). A second export of a connection
whose export is still running is refused. The workflow id is export:<connection>:<start time>.
Incremental unless --complete or the connection's Exports.Complete setting: each table reads only
the rows changed since its last successful export; deletions are seen by complete exports only.

Exit codes: 0 the export completed; 1 it failed (the failing table and ServiceNow's message are printed)
or Temporal could not be reached; 2 invalid options or settings; 130 interrupted (the export goes on).`;

/**
 * `export` is a command group whose default subcommand, `export run`, takes the options: the group itself has
 * none, so that options after `export schedule create` reach that subcommand (commander gives a parent's options
 * to the parent wherever they appear, unless the whole program parses options positionally).
 */
export function registerExport(program: Command): { exportCommand: Command; run: Command } {
  const exportCommand = usageErrorsExit2(
    program
      .command('export')
      .summary('export users, groups, memberships and roles of a connection to CSV files')
      .description(
        'export ServiceNow users, groups, memberships, roles and role grants of a connection to CSV files ' +
          '(<connection>_<table>.csv) through the worker, as an exportWorkflow in Temporal, and follow it: a ' +
          'progress bar per table, then a summary. "export [options]" is "export run [options]".',
      ),
  );
  const run = inputOptions(
    exportCommand
      .command('run', { isDefault: true })
      .description(
        'export now and follow the run: a progress bar per table (rows, rate, estimated total), then a summary ' +
          '(the default subcommand: "snow-ticket export [options]" runs it)',
      ),
  )
    .option(
      '--no-progress',
      'print plain progress lines instead of bars (always so when stdout is not a terminal)',
    )
    .option('--json', 'print only the result, as JSON, when the export ends')
    .option('--detach', 'start the export and print its workflow id, without following it')
    .addHelpText('after', `\n${EXPORT_NOTES}\n\n${EXPORT_EXAMPLES}`);
  exportCommand.addHelpText('after', () => {
    const options = run.helpInformation().split('\nOptions:\n')[1] ?? '';
    return `\nOptions of "export" (that is, of "export run"):\n${options.trimEnd()}\n\n${EXPORT_NOTES}\n\n${EXPORT_EXAMPLES}`;
  });
  run.action(async (options: ExportOptions, cmd: Command) => {
    const { settings } = await loadCliConfig(cmd);
    const connection = resolveConnection(settings, options.connection);
    const input = exportInput(connection, options);
    await withTemporal(settings, async ({ client, target }) => {
      const running = await runningExports(client, connection).catch(() => []);
      const busy = running[0];
      if (busy !== undefined) {
        throw new CliError(
          `An export of ${connection} is already running: ${busy.workflowId} (started ${time(busy.startTime)}). ` +
            `Follow it with: snow-ticket export watch ${busy.workflowId}`,
        );
      }
      let started;
      try {
        started = await startExport(client, input, { taskQueue: target.taskQueue });
      } catch (error) {
        if (error instanceof WorkflowExecutionAlreadyStartedError) {
          throw new CliError(
            `${error.message}: another export was started at the same moment; run the command again`,
          );
        }
        throw error;
      }
      if (options.detach) {
        if (options.json) printJson({ workflowId: started.workflowId, started: true });
        else
          console.log(
            `started  ${started.workflowId}  (follow it: snow-ticket export watch ${started.workflowId})`,
          );
        return;
      }
      if (!options.json) {
        console.log(
          `started  ${started.workflowId}  (${input.complete === true ? 'complete' : 'incremental'} export of ${connection}` +
            `${input.tables === undefined ? '' : `: ${input.tables.join(', ')}`}; task queue ${target.taskQueue})`,
        );
      }
      await followAndReport(client, started.handle, {
        progress: options.progress,
        json: options.json === true,
      });
    });
  });
  usageErrorsExit2(run);
  return { exportCommand, run };
}

export function registerWatch(exportCommand: Command): void {
  usageErrorsExit2(
    exportCommand
      .command('watch <workflowId>')
      .description(
        'follow an export that is running (started by "export --detach", a schedule or another client) ' +
          'and print its summary; an export that ended already prints its summary at once',
      )
      .option('--no-progress', 'print plain progress lines instead of bars')
      .option('--json', 'print only the result, as JSON, when the export ends')
      .addHelpText(
        'after',
        `
Exit codes: 0 the export completed; 1 it failed, or there is no such workflow; 130 interrupted.

Examples:
  $ snow-ticket export watch export:Main:2024-05-01T10:00:00.000Z
  $ snow-ticket export watch export:Main:schedule-2024-05-01T02:00:00Z --json`,
      )
      .action(async (workflowId: string, options: { progress: boolean; json?: boolean }, cmd: Command) => {
        const { settings } = await loadCliConfig(cmd);
        await withTemporal(settings, async ({ client }) => {
          let handle: ExportRunHandle;
          try {
            handle = await exportRun(client, workflowId);
          } catch (error) {
            if (error instanceof NotAnExportError) throw new CliError(error.message, 2);
            throw error;
          }
          await followAndReport(client, handle, { progress: options.progress, json: options.json === true });
        });
      }),
  );
}
