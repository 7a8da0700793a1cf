import { msToNumber } from '@temporalio/common/lib/time';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { formatDuration } from '../contract/durations';
import { CONNECTION_IDENTIFIER } from '../contract/order';

/** Output and option helpers shared by the CLI's commands (provisioning, assignments, audit and sim). */

// Defined with the simulator's parsers: the standalone simulator must not depend on the CLI.
export { wholeNumber } from '../simulator/optionParsers';

/** Aligned columns, two spaces apart, with no trailing blanks. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, i) =>
    Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** `Label   value` lines, skipping absent values. */
export function formatFields(fields: readonly (readonly [string, string | undefined])[]): string {
  const shown = fields.filter(
    (field): field is readonly [string, string] => field[1] !== undefined && field[1] !== '',
  );
  const width = Math.max(0, ...shown.map(([label]) => label.length));
  return shown.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n');
}

export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

/** A listing as every list command prints it: JSON when asked, a sentence when empty, else a table. */
export function printListing<T>(
  rows: readonly T[],
  listing: {
    readonly json?: boolean;
    readonly empty: string;
    readonly headers: readonly string[];
    readonly cells: (row: T) => readonly string[];
  },
): void {
  if (listing.json) printJson(rows);
  else if (rows.length === 0) console.log(listing.empty);
  else console.log(formatTable(listing.headers, rows.map(listing.cells)));
}

export function plural(count: number, word: string, many = `${word}s`): string {
  return `${count} ${count === 1 ? word : many}`;
}

function durationMs(value: string): number {
  try {
    return msToNumber(value.trim() as Parameters<typeof msToNumber>[0]);
  } catch {
    return Number.NaN;
  }
}

/** A commander parser for durations: `500ms`, `10s`, `5m`, `1h`. */
export function duration(value: string): number {
  const ms = durationMs(value);
  if (!Number.isFinite(ms) || ms <= 0)
    throw new InvalidArgumentError('expected a duration such as 10s, 1m or 500ms');
  return ms;
}

/** Like `duration`, for options where zero means "not at all" (`--settle 0s`: no settling time). */
export function durationOrZero(value: string): number {
  const ms = durationMs(value);
  if (!Number.isFinite(ms) || ms < 0)
    throw new InvalidArgumentError('expected a duration such as 10s, 1m, 500ms or 0s');
  return ms;
}

export function connectionId(value: string): string {
  if (!CONNECTION_IDENTIFIER.test(value)) {
    throw new InvalidArgumentError(
      'expected a connection identifier (a letter, then letters, digits, "." or "-")',
    );
  }
  return value;
}

export function nonEmpty(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('must not be empty');
  return value.trim();
}

/**
 * Usage errors (a bad option value, a missing argument or option) exit with code 2, as invalid input does
 * everywhere else in the CLI; commander has printed the message already. Help and version still exit 0.
 */
export function usageErrorsExit2(command: Command): Command {
  return command.exitOverride((error) => {
    process.exit(error.exitCode === 0 ? 0 : 2);
  });
}

/**
 * A duration option whose default shows as a duration in --help (`default: 10s`), not in milliseconds; `parse`
 * is `durationOrZero` where zero makes sense.
 */
export function durationOption(
  flags: string,
  description: string,
  defaultMs: number,
  parse: (value: string) => number = duration,
): Option {
  return new Option(flags, description).argParser(parse).default(defaultMs, formatDuration(defaultMs));
}
