/**
 * Plans a run on the worker: one `exportTable` input per table, from the connection's export settings and the
 * workflow's input. The plan goes into the workflow's history, so that every table of one run uses the same
 * settings even if the settings file changes meanwhile.
 */
import type { ExportInput, ExportPlan, IdentityTable } from '../contract/export';
import { InvalidExportInputError } from './errors';
import { isIdentityTable } from './fields';
import { confinedOutputDirectory } from './outputFolder';

/** A connection's export settings, folders resolved (see `src/config/exportSettings.ts`). */
export interface ResolvedExportSettings {
  /** Absolute; a relative `outputDirectory` of a workflow input is resolved against it, as the settings' folders are. */
  readonly dataDirectory: string;
  /** Absolute; a run writes here, or beneath it when its input chooses a folder (see `outputFolder.ts`). */
  readonly outputDirectory: string;
  readonly cookieDirectory: string;
  readonly tables: readonly IdentityTable[];
  readonly fields: Readonly<Record<IdentityTable, readonly string[]>>;
  /** The encoded query of each filtered table (the part after `table#`). */
  readonly filters: Partial<Readonly<Record<IdentityTable, string>>>;
  readonly overlapMs: number;
  readonly complete: boolean;
  /** Cells starting like a formula get a leading `'` (see `neutralizeFormula`). */
  readonly neutralizeFormulas: boolean;
}

/** One `exportTable` input per table, in export order. */
export function planExport(resolved: ResolvedExportSettings, input: ExportInput): ExportPlan {
  const tables = input.tables === undefined ? resolved.tables : chosenTables(input.tables);
  const outputDirectory =
    input.outputDirectory === undefined
      ? resolved.outputDirectory
      : confinedOutputDirectory(
          { folder: resolved.outputDirectory, connection: input.connection },
          input.outputDirectory,
          resolved.dataDirectory,
        );
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
      neutralizeFormulas: resolved.neutralizeFormulas,
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
