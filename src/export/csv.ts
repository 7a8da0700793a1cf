/**
 * RFC 4180 CSV as the identity system reads it: UTF-8 without a byte order mark, CRLF between records, a header
 * row of field names, and a field quoted when it holds a comma, a double quote (doubled), a CR or an LF. Cells that
 * a spreadsheet would run as a formula are neutralised unless the caller asks for raw values.
 */
import { stringify, type Options } from 'csv-stringify/sync';

const OPTIONS: Options = {
  record_delimiter: 'windows',
  // csv-stringify quotes a field holding the record delimiter (CRLF), not a lone CR or LF: RFC 4180 wants both.
  quoted_match: /[\r\n]/,
};

export function csvHeader(fields: readonly string[]): string {
  return stringify([[...fields]], OPTIONS);
}

/** What a spreadsheet may read as the start of a formula (OWASP, "CSV Injection"). */
const FORMULA_START = /^[=+\-@\t\r]/;

/** OWASP's rule: a cell that starts like a formula gets a leading single quote, so it is shown as text. */
export function neutralizeFormula(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

/**
 * The records of `rows`, one per row, with `fields` in order; a field the row lacks is written empty. With
 * `neutralizeFormulas`, every cell goes through `neutralizeFormula`.
 */
export function csvRecords(
  rows: readonly Readonly<Record<string, string>>[],
  fields: readonly string[],
  { neutralizeFormulas }: { readonly neutralizeFormulas: boolean },
): string {
  if (rows.length === 0) return '';
  const cell = neutralizeFormulas ? neutralizeFormula : (value: string) => value;
  return stringify(
    rows.map((row) => fields.map((field) => cell(Object.hasOwn(row, field) ? (row[field] ?? '') : ''))),
    OPTIONS,
  );
}
