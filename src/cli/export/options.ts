import path from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { SettingsFile } from '../../config/schema';
import type { ExportInput } from '../../contract/export';
import { isIdentityTable } from '../../export/fields';
import { IDENTITY_TABLES } from '../../servicenow/tables';
import { SIMULATOR_CONNECTION_ID } from '../../stack/localSimulator';
import { connectionId, duration, nonEmpty } from '../cliOutput';
import { CliError } from '../errors';

/** The export commands' options: what to export (connection, tables, mode, folder) and when (schedules). */

const MIN_SCHEDULE_INTERVAL_MS = 60_000;

/** `--tables a,b`: identity tables, each once, in the order given. */
export function tableList(value: string): string[] {
  const tables = value
    .split(',')
    .map((table) => table.trim())
    .filter((table) => table !== '');
  if (tables.length === 0) throw new InvalidArgumentError('expected table names separated by commas');
  const unknown = tables.filter((table) => !isIdentityTable(table));
  if (unknown.length > 0) {
    throw new InvalidArgumentError(
      `${unknown.join(', ')}: not exportable; the tables are ${IDENTITY_TABLES.join(', ')}`,
    );
  }
  const twice = tables.filter((table, index) => tables.indexOf(table) !== index);
  if (twice.length > 0) throw new InvalidArgumentError(`${[...new Set(twice)].join(', ')} named twice`);
  return tables;
}

export function scheduleInterval(value: string): number {
  const ms = duration(value);
  if (ms < MIN_SCHEDULE_INTERVAL_MS) throw new InvalidArgumentError('expected at least 1m');
  return ms;
}

/** Five to seven cron fields, or a shorthand (`@daily`, `@every 2h`); the server checks the rest. */
export function cronExpression(value: string): string {
  const cron = value.trim();
  const fields = cron.split(/\s+/).length;
  const shorthand = /^@(yearly|annually|monthly|weekly|daily|midnight|hourly)$|^@every\s+\S+$/.test(cron);
  if (!shorthand && (fields < 5 || fields > 7)) {
    throw new InvalidArgumentError(
      'expected 5 to 7 cron fields (minute hour day-of-month month day-of-week), e.g. "0 2 * * *", or @daily',
    );
  }
  return cron;
}

export function timeZone(value: string): string {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
  } catch {
    throw new InvalidArgumentError('expected an IANA time zone, e.g. Europe/Paris or UTC');
  }
  return value;
}

export function note(value: string): string {
  const text = nonEmpty(value);
  if (text.length > 500) throw new InvalidArgumentError('at most 500 characters');
  return text;
}

/**
 * `--connection`, else the only connection of the settings, else the local stack's simulator (`npm start` gives
 * the worker a connection named Simulator when the settings define none).
 */
export function resolveConnection(settings: SettingsFile, given: string | undefined): string {
  const defined = Object.keys(settings.Connections);
  if (given !== undefined) {
    if (defined.length > 0 && !defined.includes(given)) {
      console.error(
        `Warning: connection ${given} is not defined under Connections in these settings (${defined.join(', ')}); ` +
          "the worker's settings must define it, or the export fails.",
      );
    }
    return given;
  }
  if (defined.length === 1) return defined[0] as string;
  if (defined.length === 0) return SIMULATOR_CONNECTION_ID;
  throw new CliError(
    `These settings define ${defined.length} connections (${defined.join(', ')}): choose one with --connection`,
    2,
  );
}

export interface InputOptions {
  connection?: string;
  complete?: boolean;
  tables?: string[];
  out?: string;
}

export function exportInput(connection: string, options: InputOptions): ExportInput {
  return {
    connection,
    ...(options.complete === true ? { complete: true } : {}),
    ...(options.tables === undefined ? {} : { tables: options.tables }),
    ...(options.out === undefined ? {} : { outputDirectory: path.resolve(options.out) }),
  };
}

export function inputOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        '--connection <id>',
        'ServiceNow connection to export (default: the only one in the settings)',
      ).argParser(connectionId),
    )
    .option(
      '--complete',
      'export every row, ignoring the watermarks of earlier exports (default: Exports.Complete, else incremental)',
    )
    .addOption(
      new Option(
        '--tables <list>',
        `tables to export, separated by commas (default: the connection's Exports.Tables, else all: ${IDENTITY_TABLES.join(', ')})`,
      ).argParser(tableList),
    )
    .option(
      '--out <dir>',
      "folder for the CSV files on the worker's machine, relative to the current folder: Exports.OutputDirectory (the default) or a folder beneath it; the worker refuses any other",
    );
}
