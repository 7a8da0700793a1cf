/**
 * The `exportTable` input, checked again on the worker: it comes from the workflow's history, which any Temporal
 * client able to start the workflow shapes in part.
 */
import path from 'node:path';
import type { ExportTableInput, IdentityTable } from '../contract/export';
import { serialize, type ParsedQuery } from '../servicenow/encodedQuery';
import { InvalidExportInputError } from './errors';
import { exportFieldsProblems, isIdentityTable, parseExportFilter } from './fields';

export interface CheckedInput {
  readonly input: ExportTableInput;
  readonly table: IdentityTable;
  readonly fields: readonly string[];
  readonly filter: ParsedQuery | undefined;
  /** The filter as the cookie records it (null: none). */
  readonly filterKey: string | null;
  readonly neutralizeFormulas: boolean;
}

export function checkInput(input: ExportTableInput): CheckedInput {
  const table: string = input.table;
  if (!isIdentityTable(table)) throw new InvalidExportInputError(`'${table}' is not an identity table`);
  const problems = exportFieldsProblems(table, input.fields);
  if (problems.length > 0) {
    throw new InvalidExportInputError(`Fields of ${table}: ${problems.join('; ')}`);
  }
  if (!Number.isFinite(input.overlapMs) || input.overlapMs < 0) {
    throw new InvalidExportInputError('overlapMs must be a duration in milliseconds');
  }
  if (!path.isAbsolute(input.outputDirectory)) {
    throw new InvalidExportInputError('outputDirectory must be an absolute path');
  }
  const filter = input.filter === undefined ? undefined : parseExportFilter(table, input.filter);
  if (input.neutralizeFormulas !== undefined && typeof input.neutralizeFormulas !== 'boolean') {
    throw new InvalidExportInputError('neutralizeFormulas must be true or false');
  }
  return {
    input,
    table,
    fields: input.fields,
    filter,
    filterKey: filter === undefined ? null : serialize(filter),
    // Plans made before the setting existed lack it: they get the default.
    neutralizeFormulas: input.neutralizeFormulas ?? true,
  };
}
