/**
 * Resolves a connection's export settings on the worker: folders (relative ones against DataDirectory), the
 * tables, their columns and filters, and the mode. The result goes into the workflow's history, so that every
 * table of one run uses the same settings even if the file changes meanwhile.
 */
import path from 'node:path';
import { defaultExportSettings, type SettingsFile } from '../config/schema';
import { UnknownConnectionError } from '../servicenow/connection';
import { splitFilterSetting, isIdentityTable } from './fields';
import type { ExportInput, ExportPlan, IdentityTable } from '../contract/export';

export interface ResolvedExportSettings {
  readonly outputDirectory: string;
  readonly cookieDirectory: string;
  readonly tables: readonly IdentityTable[];
  readonly fields: Readonly<Record<IdentityTable, readonly string[]>>;
  /** The encoded query of each filtered table (the part after `table#`). */
  readonly filters: Partial<Readonly<Record<IdentityTable, string>>>;
  readonly overlapMs: number;
  readonly complete: boolean;
}

/** A workflow input no retry can fix. */
export class InvalidExportInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidExportInputError';
  }
}

export function resolveExportSettings(settings: SettingsFile, connectionId: string): ResolvedExportSettings {
  const connection = settings.Connections[connectionId];
  if (connection === undefined || !Object.hasOwn(settings.Connections, connectionId)) {
    throw new UnknownConnectionError(connectionId, Object.keys(settings.Connections));
  }
  const dataDirectory = path.resolve(settings.TicketConnector.DataDirectory);
  const exports = Object.hasOwn(settings.TicketConnector.Exports, connectionId)
    ? settings.TicketConnector.Exports[connectionId]
    : undefined;
  const configured = exports ?? defaultExportSettings();
  const cookieDirectory = configured.CookieDirectory ?? connection.TicketCookieDirectoryPath;
  const filters: Partial<Record<IdentityTable, string>> = {};
  for (const setting of configured.Filters) {
    const split = splitFilterSetting(setting);
    // The settings schema has checked every filter; this only narrows the types.
    if (split !== undefined && isIdentityTable(split.table)) filters[split.table] = split.query;
  }
  return {
    outputDirectory: path.resolve(dataDirectory, configured.OutputDirectory),
    cookieDirectory:
      cookieDirectory === undefined
        ? path.join(dataDirectory, 'cookies')
        : path.resolve(dataDirectory, cookieDirectory),
    tables: configured.Tables,
    fields: configured.Fields,
    filters,
    overlapMs: configured.Overlap,
    complete: configured.Complete,
  };
}

/** One `exportTable` input per table, in export order. */
export function planExport(settings: SettingsFile, input: ExportInput): ExportPlan {
  const resolved = resolveExportSettings(settings, input.connection);
  const tables = input.tables === undefined ? resolved.tables : chosenTables(input.tables);
  const outputDirectory =
    input.outputDirectory === undefined
      ? resolved.outputDirectory
      : path.resolve(path.resolve(settings.TicketConnector.DataDirectory), input.outputDirectory);
  const mode = (input.complete ?? resolved.complete) ? 'complete' : 'incremental';
  return {
    connection: input.connection,
    mode,
    tables: tables.map((table) => ({
      connection: input.connection,
      table,
      mode,
      outputDirectory,
      fields: resolved.fields[table],
      ...(resolved.filters[table] === undefined ? {} : { filter: resolved.filters[table] }),
      overlapMs: resolved.overlapMs,
    })),
  };
}

function chosenTables(names: readonly string[]): IdentityTable[] {
  const unknown = names.filter((name) => !isIdentityTable(name));
  if (unknown.length > 0) {
    throw new InvalidExportInputError(
      `Cannot export ${unknown.map((name) => `'${name}'`).join(', ')}: the tables are sys_user, sys_user_group, sys_user_grmember, sys_user_role and sys_user_has_role`,
    );
  }
  if (names.length === 0) throw new InvalidExportInputError('The export names no table');
  return [...new Set(names as IdentityTable[])];
}
