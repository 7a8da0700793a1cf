import {
  fieldKind,
  fieldsOf,
  isSysId,
  NUMBER_PREFIX,
  TABLE_NAMES,
  type FieldKind,
  type TableName,
} from '../servicenow/tables';
import { newSysId } from './random';

/**
 * In-memory tables. A record is stored as a plain array of strings in dictionary order: the simulator must hold a
 * million group memberships, and an array per row (no per-row key strings, shared timestamp strings) is the most
 * compact shape V8 offers without giving up simple code. One more slot after the fields holds the row's creation
 * sequence, a small integer V8 stores unboxed: it puts index hits back into creation order (the order of a full
 * scan) without an object per row. Only TableStore reads or writes that slot.
 */
export type Row = string[];
/** A record as the business logic sees it: every dictionary field, as the string ServiceNow would return. */
export type RecordValues = Record<string, string>;

/** Who wrote a record, and when (already formatted). */
export interface Stamp {
  readonly on: string;
  readonly by: string;
}

export interface JournalEntry {
  readonly field: string;
  readonly value: string;
  readonly created_on: string;
  readonly created_by: string;
}

export interface FieldAccessor {
  readonly kind: FieldKind;
  readonly get: (row: Row) => string;
}

const FIRST_NUMBER = 10001;

/** ServiceNow renders dates as `YYYY-MM-DD HH:MM:SS` in UTC; this format also sorts correctly as text. */
export function formatDateTime(date: Date): string {
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

/** The field shown for a reference to a record of each table (its "display value"). */
const DISPLAY_FIELDS: Record<TableName, readonly string[]> = {
  incident: ['number'],
  sc_request: ['number'],
  sc_req_item: ['number'],
  sc_task: ['number'],
  sc_cat_item: ['name'],
  sys_user: ['name', 'user_name'],
  sys_user_group: ['name'],
  sys_user_role: ['name'],
  sys_user_grmember: [],
  sys_user_has_role: [],
};

/**
 * Looked up by value: logins, role checks, ticket numbers, the connector's correlation ids and membership reads.
 * Keys are lowercase, so one index serves both `=` semantics: case-insensitive text and exact references (whose
 * hits the caller filters). sys_id needs none: it is the key of the rows themselves.
 */
const INDEXED_FIELDS: Partial<Record<TableName, readonly string[]>> = {
  sys_user: ['user_name'],
  sys_user_grmember: ['user', 'group'],
  sys_user_has_role: ['user', 'role'],
  incident: ['number', 'correlation_id'],
  sc_request: ['number', 'correlation_id'],
  sc_req_item: ['number', 'correlation_id'],
  sc_task: ['number', 'correlation_id'],
};

export class TableStore {
  readonly fields: readonly string[];
  private readonly positions: ReadonlyMap<string, number>;
  private readonly rows = new Map<string, Row>();
  /** Index key (lowercase value) to its rows, unordered: arrays take half the memory of sets. */
  private readonly indexes: ReadonlyMap<string, Map<string, Row[]>>;
  /** Built on the first keyset read (`ORDERBYsys_id`) and then maintained, so paging never re-sorts. */
  private rowsBySysId: Row[] | undefined;
  private nextNumber = FIRST_NUMBER;
  private nextSequence = 0;

  /** `written` is called after every change (persistence listens). */
  constructor(
    readonly name: TableName,
    private readonly written: () => void,
  ) {
    this.fields = fieldsOf(name);
    this.positions = new Map(this.fields.map((field, i) => [field, i]));
    this.indexes = new Map((INDEXED_FIELDS[name] ?? []).map((field) => [field, new Map()]));
  }

  get size(): number {
    return this.rows.size;
  }

  get(sysId: string): Row | undefined {
    return this.rows.get(sysId);
  }

  position(field: string): number | undefined {
    return this.positions.get(field);
  }

  read(row: Row, field: string): string {
    const position = this.positions.get(field);
    return position === undefined ? '' : (row[position] ?? '');
  }

  toValues(row: Row): RecordValues {
    return Object.fromEntries(this.fields.map((field, i) => [field, row[i] ?? '']));
  }

  inCreationOrder(): Iterable<Row> {
    return this.rows.values();
  }

  /** Rows with a sys_id at or after `from`, in sys_id order: keyset pages start where the previous one ended. */
  *inSysIdOrder(from = ''): Generator<Row> {
    // Sorting the keys with the built-in string order is several times faster than a comparator over rows.
    this.rowsBySysId ??= [...this.rows.keys()].sort().map((sysId) => this.rows.get(sysId) ?? []);
    const rows = this.rowsBySysId;
    for (let i = this.sysIdPosition(from); i < rows.length; i++) yield rows[i] as Row;
  }

  /** Orders rows as a full scan meets them. */
  readonly byCreation = (a: Row, b: Row): number => this.sequence(a) - this.sequence(b);

  /** Whether `lookup` can find rows by `field`. */
  isIndexed(field: string): boolean {
    return field === 'sys_id' || this.indexes.has(field);
  }

  /**
   * Rows whose `field` may equal one of `values`: sys_ids exactly, indexed fields ignoring case. Unordered, and
   * a row appears once per value it matches.
   */
  lookup(field: string, values: readonly string[]): Row[] {
    if (field === 'sys_id') {
      // Rows are arrays themselves: wrap each one so that flatMap does not spread its fields.
      return values.flatMap((value) => {
        const row = this.rows.get(value);
        return row === undefined ? [] : [row];
      });
    }
    const index = this.indexes.get(field);
    if (index === undefined) throw new Error(`${this.name}.${field} is not indexed`);
    return values.flatMap((value) => index.get(value.toLowerCase()) ?? []);
  }

  /** Rows whose indexed `field` equals `value`, ignoring case. */
  findBy(field: string, value: string): Row[] {
    return this.lookup(field, [value]);
  }

  /**
   * Inserts a record, filling the system fields. `values.sys_id` is kept when it is a valid, unused sys_id (the
   * platform lets callers choose it); `values.number` is kept when given, as the platform's number is only a
   * default.
   */
  insert(values: Readonly<RecordValues>, stamp: Stamp): Row {
    const given = values.sys_id ?? '';
    let sysId = isSysId(given) && !this.rows.has(given) ? given : newSysId();
    while (this.rows.has(sysId)) sysId = newSysId();
    const row = this.newRow((field) => values[field] ?? '');
    this.write(row, 'sys_id', sysId);
    this.write(row, 'sys_created_on', stamp.on);
    this.write(row, 'sys_created_by', stamp.by);
    this.write(row, 'sys_updated_on', stamp.on);
    this.write(row, 'sys_updated_by', stamp.by);
    this.write(row, 'sys_mod_count', '0');
    this.write(row, 'sys_class_name', this.name);
    if (this.positions.has('number') && !values.number) this.write(row, 'number', this.newNumber());
    this.add(row);
    return row;
  }

  /**
   * Puts back a saved record exactly as it was (`values` in dictionary order, system fields included). Throws
   * when its sys_id is malformed or already used: a restored sys_id must never silently change.
   */
  restore(values: readonly string[]): void {
    const row = this.newRow((_, i) => values[i] ?? '');
    const sysId = this.read(row, 'sys_id');
    if (!isSysId(sysId)) throw new Error(`${this.name}: '${sysId}' is not a sys_id`);
    if (this.rows.has(sysId)) throw new Error(`${this.name}: sys_id ${sysId} appears twice`);
    this.add(row);
  }

  /** The counter behind generated numbers (10001 for INC0010001), saved and restored with the records. */
  get numbering(): number {
    return this.nextNumber;
  }

  restoreNumbering(next: number): void {
    this.nextNumber = next;
    this.written();
  }

  /** The record's field values in dictionary order, as `restore` takes them. */
  valuesOf(row: Row): string[] {
    return row.slice(0, this.fields.length);
  }

  /** Writes every field of `values` into the stored row and stamps the update (`sys_mod_count` + 1). */
  update(row: Row, values: Readonly<RecordValues>, stamp: Stamp): void {
    const indexKeys = this.indexKeys(row);
    this.fields.forEach((field, i) => {
      if (field !== 'sys_id' && Object.hasOwn(values, field)) row[i] = values[field] ?? '';
    });
    this.write(row, 'sys_updated_on', stamp.on);
    this.write(row, 'sys_updated_by', stamp.by);
    this.write(row, 'sys_mod_count', String(Number(this.read(row, 'sys_mod_count')) + 1));
    this.reindex(row, indexKeys);
    this.written();
  }

  delete(sysId: string): boolean {
    const row = this.rows.get(sysId);
    if (row === undefined) return false;
    this.rows.delete(sysId);
    this.removeFromIndexes(row);
    if (this.rowsBySysId !== undefined) this.rowsBySysId.splice(this.sysIdPosition(sysId), 1);
    this.written();
    return true;
  }

  private newRow(valueAt: (field: string, i: number) => string): Row {
    const row: Row = new Array<string>(this.fields.length + 1);
    this.fields.forEach((field, i) => (row[i] = valueAt(field, i)));
    (row as unknown[])[this.fields.length] = this.nextSequence++;
    return row;
  }

  private sequence(row: Row): number {
    return (row as unknown[])[this.fields.length] as number;
  }

  private add(row: Row): void {
    const sysId = this.read(row, 'sys_id');
    this.rows.set(sysId, row);
    this.addToIndexes(row);
    if (this.rowsBySysId !== undefined) {
      this.rowsBySysId.splice(this.sysIdPosition(sysId), 0, row);
    }
    this.written();
  }

  private write(row: Row, field: string, value: string): void {
    const position = this.positions.get(field);
    if (position !== undefined) row[position] = value;
  }

  private newNumber(): string {
    const prefix = NUMBER_PREFIX[this.name] ?? '';
    return `${prefix}${String(this.nextNumber++).padStart(7, '0')}`;
  }

  /** Binary search in `rowsBySysId`: the position of `sysId`, or where it would be inserted. */
  private sysIdPosition(sysId: string): number {
    const rows = this.rowsBySysId ?? [];
    let low = 0;
    let high = rows.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (compareSysIds(rows[middle]?.[0] ?? '', sysId) < 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  private addToIndexes(row: Row): void {
    for (const field of this.indexes.keys()) this.index(row, field, this.indexKey(row, field));
  }

  private removeFromIndexes(row: Row): void {
    for (const field of this.indexes.keys()) this.unindex(row, field, this.indexKey(row, field));
  }

  private indexKeys(row: Row): Map<string, string> {
    return new Map([...this.indexes.keys()].map((field) => [field, this.indexKey(row, field)]));
  }

  /** Moves the row to the buckets of its new values, where they changed since `before` (from indexKeys). */
  private reindex(row: Row, before: ReadonlyMap<string, string>): void {
    for (const [field, oldKey] of before) {
      const key = this.indexKey(row, field);
      if (key === oldKey) continue;
      this.unindex(row, field, oldKey);
      this.index(row, field, key);
    }
  }

  private indexKey(row: Row, field: string): string {
    return this.read(row, field).toLowerCase();
  }

  private index(row: Row, field: string, key: string): void {
    const index = this.indexes.get(field);
    const rows = index?.get(key);
    if (rows === undefined) index?.set(key, [row]);
    else rows.push(row);
  }

  private unindex(row: Row, field: string, key: string): void {
    const index = this.indexes.get(field);
    const rows = index?.get(key) ?? [];
    const position = rows.indexOf(row);
    if (position < 0) return;
    // Buckets are unordered: the last row fills the gap.
    rows[position] = rows.at(-1) as Row;
    rows.pop();
    if (rows.length === 0) index?.delete(key);
  }
}

function compareSysIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export class Store {
  private tables = this.createTables();
  /** Work notes and comments by record sys_id: the Table API reads them back empty, the admin API shows them. */
  private journals = new Map<string, JournalEntry[]>();
  private changeListener: (() => void) | undefined;

  table(name: TableName): TableStore {
    return this.tables[name];
  }

  /** Calls `listener` after every change of records, numbering or journals. */
  watch(listener: () => void): void {
    this.changeListener = listener;
  }

  /** Drops every record and restarts numbering. */
  clear(): void {
    this.tables = this.createTables();
    this.journals = new Map();
    this.changed();
  }

  journal(sysId: string): readonly JournalEntry[] {
    return this.journals.get(sysId) ?? [];
  }

  /** Every journal, by record sys_id. */
  allJournals(): Iterable<[string, readonly JournalEntry[]]> {
    return this.journals.entries();
  }

  appendJournal(sysId: string, entries: readonly JournalEntry[]): void {
    if (entries.length === 0) return;
    this.journals.set(sysId, [...this.journal(sysId), ...entries]);
    this.changed();
  }

  forgetJournal(sysId: string): void {
    if (this.journals.delete(sysId)) this.changed();
  }

  /** The display value of a referenced record, or '' when the reference dangles. */
  displayValue(table: TableName, sysId: string): string {
    const target = this.tables[table];
    const row = target.get(sysId);
    if (row === undefined) return '';
    for (const field of DISPLAY_FIELDS[table]) {
      const value = target.read(row, field);
      if (value !== '') return value;
    }
    return '';
  }

  /** Finds the record of `table` whose display value is `display` (case-insensitive), as reference writes do. */
  findByDisplayValue(table: TableName, display: string): Row | undefined {
    const wanted = display.toLowerCase();
    const target = this.tables[table];
    for (const row of target.inCreationOrder()) {
      if (DISPLAY_FIELDS[table].some((field) => target.read(row, field).toLowerCase() === wanted)) return row;
    }
    return undefined;
  }

  /**
   * Reads `path` from rows of `table`, following references for dot-walked paths (`caller_id.user_name`).
   * Undefined when a segment is not in the dictionary: callers drop such terms, as ServiceNow does.
   */
  accessor(table: TableName, path: string): FieldAccessor | undefined {
    const dot = path.indexOf('.');
    const field = dot < 0 ? path : path.slice(0, dot);
    const kind = fieldKind(table, field);
    const position = this.tables[table].position(field);
    if (kind === undefined || position === undefined) return undefined;
    if (dot < 0) return { kind, get: (row) => row[position] ?? '' };
    if (kind.type !== 'reference') return undefined;
    const next = this.accessor(kind.table, path.slice(dot + 1));
    if (next === undefined) return undefined;
    return {
      kind: next.kind,
      get: (row) => {
        const target = this.tables[kind.table].get(row[position] ?? '');
        return target === undefined ? '' : next.get(target);
      },
    };
  }

  private createTables(): Record<TableName, TableStore> {
    const changed = () => this.changed();
    return Object.fromEntries(TABLE_NAMES.map((name) => [name, new TableStore(name, changed)])) as Record<
      TableName,
      TableStore
    >;
  }

  private changed(): void {
    this.changeListener?.();
  }
}
