import { fieldKind, fieldsOf, NUMBER_PREFIX, TABLE_NAMES, type FieldKind, type TableName } from '../tables';
import { newSysId } from './random';

/**
 * In-memory tables. A record is stored as a plain array of strings in dictionary order: the simulator must hold a
 * million group memberships, and an array per row (no per-row key strings, shared timestamp strings) is the most
 * compact shape V8 offers without giving up simple code.
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

const SYS_ID = /^[0-9a-f]{32}$/;
const FIRST_NUMBER = 10001;

/** ServiceNow renders dates as `YYYY-MM-DD HH:MM:SS` in UTC; this format also sorts correctly as text. */
export function formatDateTime(date: Date): string {
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

export function isSysId(value: string): boolean {
  return SYS_ID.test(value);
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

/** Looked up by value on hot paths (logins, role checks, ticket numbers). Keys are lowercase. */
const INDEXED_FIELDS: Partial<Record<TableName, readonly string[]>> = {
  sys_user: ['user_name'],
  sys_user_has_role: ['user'],
  incident: ['number'],
  sc_request: ['number'],
  sc_req_item: ['number'],
  sc_task: ['number'],
};

export class TableStore {
  readonly fields: readonly string[];
  private readonly positions: ReadonlyMap<string, number>;
  private readonly rows = new Map<string, Row>();
  private readonly indexes: ReadonlyMap<string, Map<string, Set<Row>>>;
  /** Built on the first keyset read (`ORDERBYsys_id`) and then maintained, so paging never re-sorts. */
  private rowsBySysId: Row[] | undefined;
  private nextNumber = FIRST_NUMBER;

  constructor(readonly name: TableName) {
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

  inSysIdOrder(): Iterable<Row> {
    // Sorting the keys with the built-in string order is several times faster than a comparator over rows.
    this.rowsBySysId ??= [...this.rows.keys()].sort().map((sysId) => this.rows.get(sysId) ?? []);
    return this.rowsBySysId;
  }

  /** Rows whose indexed `field` equals `value`, ignoring case. */
  findBy(field: string, value: string): Row[] {
    const index = this.indexes.get(field);
    if (index === undefined) throw new Error(`${this.name}.${field} is not indexed`);
    return [...(index.get(value.toLowerCase()) ?? [])];
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
    const row: Row = new Array<string>(this.fields.length);
    this.fields.forEach((field, i) => (row[i] = values[field] ?? ''));
    this.write(row, 'sys_id', sysId);
    this.write(row, 'sys_created_on', stamp.on);
    this.write(row, 'sys_created_by', stamp.by);
    this.write(row, 'sys_updated_on', stamp.on);
    this.write(row, 'sys_updated_by', stamp.by);
    this.write(row, 'sys_mod_count', '0');
    this.write(row, 'sys_class_name', this.name);
    if (this.positions.has('number') && !values.number) this.write(row, 'number', this.newNumber());
    this.rows.set(sysId, row);
    this.addToIndexes(row);
    if (this.rowsBySysId !== undefined) {
      this.rowsBySysId.splice(this.sysIdPosition(sysId), 0, row);
    }
    return row;
  }

  /** Writes every field of `values` into the stored row and stamps the update (`sys_mod_count` + 1). */
  update(row: Row, values: Readonly<RecordValues>, stamp: Stamp): void {
    this.removeFromIndexes(row);
    this.fields.forEach((field, i) => {
      if (field !== 'sys_id' && Object.hasOwn(values, field)) row[i] = values[field] ?? '';
    });
    this.write(row, 'sys_updated_on', stamp.on);
    this.write(row, 'sys_updated_by', stamp.by);
    this.write(row, 'sys_mod_count', String(Number(this.read(row, 'sys_mod_count')) + 1));
    this.addToIndexes(row);
  }

  delete(sysId: string): boolean {
    const row = this.rows.get(sysId);
    if (row === undefined) return false;
    this.rows.delete(sysId);
    this.removeFromIndexes(row);
    if (this.rowsBySysId !== undefined) this.rowsBySysId.splice(this.sysIdPosition(sysId), 1);
    return true;
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
    for (const [field, index] of this.indexes) {
      const key = this.read(row, field).toLowerCase();
      let rows = index.get(key);
      if (rows === undefined) index.set(key, (rows = new Set()));
      rows.add(row);
    }
  }

  private removeFromIndexes(row: Row): void {
    for (const [field, index] of this.indexes) {
      const key = this.read(row, field).toLowerCase();
      const rows = index.get(key);
      rows?.delete(row);
      if (rows?.size === 0) index.delete(key);
    }
  }
}

function compareSysIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export class Store {
  private tables = createTables();
  /** Work notes and comments by record sys_id: the Table API reads them back empty, the admin API shows them. */
  private journals = new Map<string, JournalEntry[]>();

  table(name: TableName): TableStore {
    return this.tables[name];
  }

  /** Drops every record and restarts numbering. */
  clear(): void {
    this.tables = createTables();
    this.journals = new Map();
  }

  journal(sysId: string): readonly JournalEntry[] {
    return this.journals.get(sysId) ?? [];
  }

  appendJournal(sysId: string, entries: readonly JournalEntry[]): void {
    if (entries.length === 0) return;
    this.journals.set(sysId, [...this.journal(sysId), ...entries]);
  }

  forgetJournal(sysId: string): void {
    this.journals.delete(sysId);
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
}

function createTables(): Record<TableName, TableStore> {
  return Object.fromEntries(TABLE_NAMES.map((name) => [name, new TableStore(name)])) as Record<
    TableName,
    TableStore
  >;
}
