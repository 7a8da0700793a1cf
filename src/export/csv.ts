/**
 * RFC 4180 CSV as the identity system reads it: UTF-8 without a byte order mark, CRLF between records, a header
 * row of field names, and a field quoted when it holds a comma, a double quote (doubled), a CR or an LF.
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

/** The records of `rows`, one per row, with `fields` in order; a field the row lacks is written empty. */
export function csvRecords(
  rows: readonly Readonly<Record<string, string>>[],
  fields: readonly string[],
): string {
  if (rows.length === 0) return '';
  return stringify(
    rows.map((row) => fields.map((field) => (Object.hasOwn(row, field) ? (row[field] ?? '') : ''))),
    OPTIONS,
  );
}
