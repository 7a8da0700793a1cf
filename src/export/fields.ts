/**
 * Which columns and rows of the identity tables an export may ask for: shared by the settings schema (checked at
 * load) and the export activity (checked again, as its input can come from any Temporal client).
 */
import {
  EncodedQuery,
  EncodedQueryError,
  parseEncodedQuery,
  type ParsedQuery,
} from '../servicenow/encodedQuery';
import { fieldKind, fieldsOf, IDENTITY_TABLES } from '../servicenow/tables';
import type { IdentityTable } from '../contract/export';

/** The columns exported when the settings name none for a table. */
export const DEFAULT_EXPORT_FIELDS: Readonly<Record<IdentityTable, readonly string[]>> = {
  sys_user: [
    'sys_id',
    'user_name',
    'first_name',
    'last_name',
    'name',
    'email',
    'title',
    'department',
    'employee_number',
    'manager',
    'active',
    'locked_out',
    'sys_created_on',
    'sys_updated_on',
  ],
  sys_user_group: [
    'sys_id',
    'name',
    'description',
    'email',
    'manager',
    'parent',
    'type',
    'active',
    'sys_created_on',
    'sys_updated_on',
  ],
  sys_user_grmember: ['sys_id', 'user', 'group', 'sys_updated_on'],
  sys_user_role: ['sys_id', 'name', 'description', 'elevated_privilege', 'sys_created_on', 'sys_updated_on'],
  sys_user_has_role: ['sys_id', 'user', 'role', 'inherited', 'granted_by', 'state', 'sys_updated_on'],
};

/** ServiceNow's custom fields: readable, but not in our dictionary, so never used in a query. */
const CUSTOM_FIELD = /^u_[a-z0-9_]+$/;

export function isIdentityTable(name: string): name is IdentityTable {
  return (IDENTITY_TABLES as readonly string[]).includes(name);
}

/** Why a column cannot be exported from the table, or undefined when it can. */
export function exportFieldProblem(table: IdentityTable, field: string): string | undefined {
  if (CUSTOM_FIELD.test(field)) return undefined;
  const kind = fieldKind(table, field);
  if (kind === undefined) {
    return `'${field}' is not a field of ${table} (dictionary fields, or custom fields named u_...)`;
  }
  if (kind.type === 'password' || kind.type === 'journal') {
    return `'${field}' cannot be exported (the Table API never returns ${kind.type} fields)`;
  }
  return undefined;
}

/** Problems of a column list: unknown or unreadable fields, duplicates, an empty list. */
export function exportFieldsProblems(table: IdentityTable, fields: readonly string[]): string[] {
  if (fields.length === 0) return ['must name at least one field'];
  const problems = fields.flatMap((field) => exportFieldProblem(table, field) ?? []);
  const duplicates = fields.filter((field, index) => fields.indexOf(field) !== index);
  if (duplicates.length > 0) problems.push(`names ${[...new Set(duplicates)].join(', ')} more than once`);
  return problems;
}

export class ExportFilterError extends Error {
  constructor(
    readonly table: string,
    problem: string,
  ) {
    super(`filter on ${table}: ${problem}`);
    this.name = 'ExportFilterError';
  }
}

/**
 * Parses a table's filter (the encoded query after `table#`) strictly and checks every field, operator and value
 * against the table's dictionary, as the client will when it sends it. Only field names appear in errors.
 */
export function parseExportFilter(table: IdentityTable, query: string): ParsedQuery {
  if (query.trim() === '') throw new ExportFilterError(table, 'the encoded query is empty');
  try {
    const parsed = parseEncodedQuery(query);
    if (parsed.groups.length === 0) throw new ExportFilterError(table, 'the encoded query has no condition');
    // Builds the query the client would send, which applies every check (allow-listed fields, escapable values).
    EncodedQuery.over(fieldsOf(table)).and(parsed);
    return parsed;
  } catch (error) {
    if (error instanceof EncodedQueryError) throw new ExportFilterError(table, error.message);
    throw error;
  }
}

/** Splits a configured `table#encodedQuery` filter. */
export function splitFilterSetting(setting: string): { table: string; query: string } | undefined {
  const hash = setting.indexOf('#');
  if (hash <= 0) return undefined;
  return { table: setting.slice(0, hash).trim(), query: setting.slice(hash + 1) };
}
