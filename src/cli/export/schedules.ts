import { Option, type Command } from 'commander';
import {
  createExportSchedule,
  deleteExportSchedule,
  describeExportSchedule,
  ExportScheduleExistsError,
  ExportScheduleRefusedError,
  isScheduleNotFound,
  listExportSchedules,
  pauseExportSchedule,
  triggerExportScheduleRun,
  unpauseExportSchedule,
  type ExportCadence,
  type ExportScheduleListing,
  type TriggeredExport,
} from '../../client/exportSchedules';
import { exportScheduleId } from '../../client/exportRuns';
import type { Client } from '../../client/session';
import { connectionId, formatFields, printJson, printListing, usageErrorsExit2 } from '../cliOutput';
import { CliError } from '../errors';
import { loadCliConfig } from '../loadCliConfig';
import { withTemporal } from '../temporalClient';
import { time } from './format';
import {
  cronExpression,
  exportInput,
  inputOptions,
  note,
  resolveConnection,
  scheduleInterval,
  timeZone,
  type InputOptions,
} from './options';

/** `export schedule create|list|pause|unpause|delete|trigger`: the connection's Temporal Schedule of exports. */

/** Schedule errors any subcommand may meet, in the operator's words. */
async function withSchedules<T>(
  command: Command,
  connectionOption: string | undefined,
  action: (client: Client, connection: string, taskQueue: string) => Promise<T>,
): Promise<T> {
  const { settings } = await loadCliConfig(command);
  const connection = resolveConnection(settings, connectionOption);
  return withTemporal(settings, async ({ client, target }) => {
    try {
      return await action(client, connection, target.taskQueue);
    } catch (error) {
      if (isScheduleNotFound(error)) {
        throw new CliError(
          `No export schedule for ${connection} (schedule id ${exportScheduleId(connection)}); ` +
            'see snow-ticket export schedule list',
        );
      }
      throw error;
    }
  });
}

function connectionOption(command: Command, what: string): Command {
  return command.addOption(
    new Option(
      '--connection <id>',
      `connection whose schedule to ${what} (default: the only one in the settings)`,
    ).argParser(connectionId),
  );
}

function listingFields(listing: ExportScheduleListing & { running?: readonly string[] }): string {
  return formatFields([
    ['Schedule', listing.scheduleId],
    ['Connection', listing.connection],
    ['Runs', listing.cadence],
    ['State', listing.paused ? 'paused' : 'active'],
    ['Note', listing.note],
    ['Next run', time(listing.nextRunAt)],
    [
      'Last run',
      listing.lastRun === undefined
        ? undefined
        : `${listing.lastRun.workflowId} at ${time(listing.lastRun.takenAt)}`,
    ],
    [
      'Running',
      listing.running === undefined || listing.running.length === 0 ? undefined : listing.running.join(', '),
    ],
  ]);
}

interface ScheduleCreateOptions extends InputOptions {
  every?: number;
  cron?: string;
  timeZone?: string;
  paused?: boolean;
  note?: string;
  json?: boolean;
}

export function registerSchedule(exportCommand: Command): void {
  const schedule = usageErrorsExit2(
    exportCommand
      .command('schedule')
      .description(
        "periodic exports through a Temporal Schedule per connection (export-<connection>): each run is an exportWorkflow, shown in the Web UI's Schedules page; a run is skipped while the previous one is still going",
      )
      .addHelpText(
        'after',
        `
Examples:
  $ snow-ticket export schedule create --connection Main --every 1h
  $ snow-ticket export schedule create --connection Main --cron "30 2 * * *" --time-zone Europe/Paris --complete
  $ snow-ticket export schedule list
  $ snow-ticket export schedule pause --connection Main --note "ServiceNow upgrade"
  $ snow-ticket export schedule trigger --connection Main`,
      ),
  );

  usageErrorsExit2(
    inputOptions(
      schedule
        .command('create')
        .description(
          'create the export schedule of a connection: every interval (--every) or at cron times (--cron); the export options are those of "snow-ticket export"',
        ),
    )
      .addOption(
        new Option('--every <duration>', 'run every interval, e.g. 15m, 1h, 24h (at least 1m)')
          .argParser(scheduleInterval)
          .conflicts('cron'),
      )
      .addOption(
        new Option(
          '--cron <expression>',
          'run at cron times: minute hour day-of-month month day-of-week, or @daily',
        )
          .argParser(cronExpression)
          .conflicts('every'),
      )
      .addOption(new Option('--time-zone <zone>', 'time zone of --cron (default: UTC)').argParser(timeZone))
      .option('--paused', 'create it paused (unpause it later)')
      .addOption(new Option('--note <text>', 'a note shown with the schedule in the Web UI').argParser(note))
      .option('--json', 'print the schedule as JSON')
      .addHelpText(
        'after',
        `
Runs missed while Temporal was down are caught up within 10 minutes (one run, not one per missed time).
A connection has one schedule: delete it to change it. --out is a folder on the worker's machine.

Exit codes: 0 created; 1 the schedule exists already, or Temporal could not be reached; 2 invalid options.

Examples:
  $ snow-ticket export schedule create --connection Main --every 1h
  $ snow-ticket export schedule create --connection Main --every 24h --complete --out /srv/idm/in
  $ snow-ticket export schedule create --connection Main --cron "0 */4 * * *" --tables sys_user,sys_user_grmember
  $ snow-ticket export schedule create --connection Main --cron "30 2 * * 1-5" --time-zone America/New_York --paused`,
      )
      .action(async (options: ScheduleCreateOptions, cmd: Command) => {
        if ((options.every === undefined) === (options.cron === undefined)) {
          throw new CliError('Give when the export runs: --every <duration> or --cron <expression>', 2);
        }
        if (options.timeZone !== undefined && options.cron === undefined) {
          throw new CliError('--time-zone applies to --cron only', 2);
        }
        const cadence: ExportCadence =
          options.every !== undefined
            ? { kind: 'every', everyMs: options.every }
            : {
                kind: 'cron',
                cron: options.cron as string,
                ...(options.timeZone === undefined ? {} : { timeZone: options.timeZone }),
              };
        await withSchedules(cmd, options.connection, async (client, connection, taskQueue) => {
          try {
            await createExportSchedule(client, {
              input: exportInput(connection, options),
              cadence,
              taskQueue,
              ...(options.paused === true ? { paused: true } : {}),
              ...(options.note === undefined ? {} : { note: options.note }),
            });
          } catch (error) {
            if (error instanceof ExportScheduleExistsError) {
              throw new CliError(
                `${connection} has an export schedule already (${error.scheduleId}): ` +
                  `delete it first to change it (snow-ticket export schedule delete --connection ${connection})`,
              );
            }
            if (error instanceof ExportScheduleRefusedError) throw new CliError(error.message, 2);
            throw error;
          }
          const created = await describeExportSchedule(client, connection);
          if (options.json) printJson(created);
          else console.log(`created  ${created.scheduleId}\n${listingFields(created)}`);
        });
      }),
  );

  usageErrorsExit2(
    schedule
      .command('list')
      .description('list the export schedules of the namespace')
      .option('--json', 'print them as JSON')
      .addHelpText(
        'after',
        `
The list comes from Temporal's visibility store, which lags a moment behind changes.

Examples:
  $ snow-ticket export schedule list
  $ snow-ticket export schedule list --json`,
      )
      .action(async (options: { json?: boolean }, cmd: Command) => {
        const { settings } = await loadCliConfig(cmd);
        await withTemporal(settings, async ({ client }) => {
          const listings = await listExportSchedules(client);
          printListing(listings, {
            json: options.json,
            empty: 'No export schedules (create one: snow-ticket export schedule create --help).',
            headers: ['schedule', 'connection', 'runs', 'state', 'next run', 'last run'],
            cells: (listing) => [
              listing.scheduleId,
              listing.connection,
              listing.cadence,
              listing.paused ? 'paused' : 'active',
              listing.paused ? '' : time(listing.nextRunAt),
              listing.lastRun === undefined ? '' : `${listing.lastRun.workflowId}`,
            ],
          });
        });
      }),
  );

  const simple = (
    name: string,
    description: string,
    what: string,
    example: string,
    run: (client: Client, connection: string, options: { note?: string }) => Promise<string>,
    withNote: boolean,
  ) => {
    const command = connectionOption(schedule.command(name).description(description), what);
    if (withNote) {
      command.addOption(
        new Option('--note <text>', 'why, shown with the schedule in the Web UI').argParser(note),
      );
    }
    usageErrorsExit2(
      command
        .addHelpText(
          'after',
          `
Exit codes: 0 done; 1 no such schedule, or Temporal could not be reached; 2 invalid options.

Examples:
${example}`,
        )
        .action(async (options: { connection?: string; note?: string }, cmd: Command) => {
          await withSchedules(cmd, options.connection, async (client, connection) => {
            console.log(await run(client, connection, options));
          });
        }),
    );
  };

  simple(
    'pause',
    'pause the export schedule of a connection: no run starts until it is unpaused (a running export goes on)',
    'pause',
    '  $ snow-ticket export schedule pause --connection Main --note "ServiceNow upgrade until Monday"',
    async (client, connection, options) => {
      await pauseExportSchedule(client, connection, options.note);
      return `paused   ${exportScheduleId(connection)}`;
    },
    true,
  );
  simple(
    'unpause',
    'unpause the export schedule of a connection: runs start again at the next scheduled time',
    'unpause',
    '  $ snow-ticket export schedule unpause --connection Main',
    async (client, connection, options) => {
      await unpauseExportSchedule(client, connection, options.note);
      const listing = await describeExportSchedule(client, connection);
      return `unpaused ${listing.scheduleId}${listing.nextRunAt === undefined ? '' : `  (next run ${time(listing.nextRunAt)})`}`;
    },
    true,
  );
  simple(
    'delete',
    'delete the export schedule of a connection (a running export goes on; the CSV files and watermarks stay)',
    'delete',
    '  $ snow-ticket export schedule delete --connection Main',
    async (client, connection) => {
      await deleteExportSchedule(client, connection);
      return `deleted  ${exportScheduleId(connection)}`;
    },
    false,
  );
  simple(
    'trigger',
    "run the export schedule of a connection now, with the schedule's options; nothing starts while a run of the schedule is still going",
    'trigger',
    '  $ snow-ticket export schedule trigger --connection Main\n  $ snow-ticket export watch <the workflow id it prints>',
    async (client, connection) => triggeredText(await triggerExportScheduleRun(client, connection)),
    false,
  );
}

/** What `trigger` prints: the run it started, or why none shows. */
function triggeredText(triggered: TriggeredExport): string {
  if (triggered.started !== undefined) {
    return `triggered ${triggered.scheduleId}: started ${triggered.started}  (follow it: snow-ticket export watch ${triggered.started})`;
  }
  return triggered.alreadyRunning.length > 0
    ? `triggered ${triggered.scheduleId}: nothing started, its run ${triggered.alreadyRunning.join(', ')} is still going (overlap policy skip)`
    : `triggered ${triggered.scheduleId}: the run has not shown yet; see snow-ticket export schedule list`;
}
