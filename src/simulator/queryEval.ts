import {
  EncodedQueryError,
  escapeValue,
  parseEncodedQuery,
  splitTerms,
  type Condition,
  type OrderBy,
  type ParsedQuery,
} from '../servicenow/encodedQuery';
import { fieldKind, type FieldKind, type TableName } from '../servicenow/tables';
import type { Row, Store } from './store';

/**
 * Evaluates `sysparm_query` the way ServiceNow does, including its leniency: a term naming a field that is not in
 * the dictionary, or that cannot be parsed at all, is silently dropped, so a typo widens the result to every row.
 *
 * Comparisons follow the database collation of a typical instance: text compares case-insensitively (`=`, `<`,
 * LIKE, STARTSWITH, ENDSWITH, sorting), integers numerically, booleans as `true` / `false`, dates as their
 * `YYYY-MM-DD HH:MM:SS` text. sys_ids and references compare as stored (lowercase hex), which keeps keyset paging
 * (`ORDERBYsys_id^sys_id>last`) cheap. Ordering operators never match an empty value, as SQL never matches NULL.
 */

type Predicate = (row: Row) => boolean;
type Comparator = (a: Row, b: Row) => number;

export interface CompiledQuery {
  readonly matches: Predicate;
  /** Undefined when rows come in creation order or in sys_id order without sorting. */
  readonly compare: Comparator | undefined;
  readonly inSysIdOrder: boolean;
  /**
   * Every row that can match, found through an index (still to be filtered by `matches`); undefined when any
   * row may match. Set when each `^NQ` group has a top-level `=` or `IN` clause on an indexed field.
   */
  readonly candidates: ReadonlySet<Row> | undefined;
  /**
   * No row with a smaller sys_id can match: set when each group has a top-level `sys_id>` or `sys_id>=` clause,
   * so that a keyset page (`ORDERBYsys_id^sys_id>last`) starts reading where the previous one ended.
   */
  readonly sysIdFrom: string | undefined;
}

export interface PageWindow {
  readonly offset: number;
  readonly limit: number;
  /** Whether the page must report how many rows match in all. */
  readonly countAll: boolean;
}

export interface Page {
  readonly rows: readonly Row[];
  /** Undefined when the caller did not need it and the scan stopped early. */
  readonly total: number | undefined;
}

/** A condition the query kept, with its test. */
interface Term {
  readonly condition: Condition;
  readonly test: Predicate;
}
/** OR'ed terms; a group ANDs its clauses, and the query ORs its groups. */
type Clause = readonly Term[];
type Group = readonly Clause[];

export function compileQuery(store: Store, table: TableName, query: string): CompiledQuery {
  const parsed = parseLeniently(query);
  const groups = parsed.groups.map((group) =>
    group
      .map((clause) =>
        clause.flatMap((condition) => {
          const test = compileCondition(store, table, condition);
          return test === undefined ? [] : [{ condition, test }];
        }),
      )
      .filter((clause) => clause.length > 0),
  );
  // A group whose every term was dropped matches every row, as ServiceNow's dropped terms do.
  const groupTests = groups.map(
    (clauses): Predicate =>
      (row) =>
        clauses.every((clause) => clause.some((term) => term.test(row))),
  );
  const matches: Predicate =
    groupTests.length === 0 ? () => true : (row) => groupTests.some((group) => group(row));
  const order = parsed.orderBy.flatMap((o) => compileOrder(store, table, o) ?? []);
  const inSysIdOrder =
    parsed.orderBy.length === 1 && parsed.orderBy[0]?.field === 'sys_id' && !parsed.orderBy[0].descending;
  return {
    matches,
    inSysIdOrder,
    compare:
      inSysIdOrder || order.length === 0
        ? undefined
        : (a, b) => {
            for (const compare of order) {
              const result = compare(a, b);
              if (result !== 0) return result;
            }
            return 0;
          },
    candidates: indexCandidates(store, table, groups),
    sysIdFrom: sysIdLowerBound(groups),
  };
}

/**
 * Selects `limit` matching rows after `offset`. Counting every match is skipped when `countAll` is false and the
 * rows come in stored order (creation or sys_id), where the read can stop once the page is full.
 */
export function selectPage(store: Store, table: TableName, query: CompiledQuery, window: PageWindow): Page {
  const tableStore = store.table(table);
  if (query.candidates === undefined && query.compare === undefined) {
    const rows = query.inSysIdOrder ? tableStore.inSysIdOrder(query.sysIdFrom) : tableStore.inCreationOrder();
    return pageInStoredOrder(rows, query.matches, window);
  }
  // Ties keep creation order, as a stable sort of a full scan does; index hits come unordered.
  const order = query.compare ?? (query.inSysIdOrder ? bySysId : undefined);
  const { byCreation } = tableStore;
  const first = new FirstRows(
    window.offset + window.limit,
    order === undefined ? byCreation : (a, b) => order(a, b) || byCreation(a, b),
  );
  let total = 0;
  for (const row of query.candidates ?? tableStore.inCreationOrder()) {
    if (!query.matches(row)) continue;
    total++;
    first.offer(row);
  }
  return { rows: first.sorted().slice(window.offset), total };
}

function pageInStoredOrder(rows: Iterable<Row>, matches: Predicate, window: PageWindow): Page {
  const end = window.offset + window.limit;
  const page: Row[] = [];
  let seen = 0;
  for (const row of rows) {
    if (!matches(row)) continue;
    if (seen >= window.offset && seen < end) page.push(row);
    seen++;
    if (seen >= end && !window.countAll) return { rows: page, total: undefined };
  }
  return { rows: page, total: seen };
}

/** sys_ids are stored lowercase and compare as stored (see the header). */
const bySysId: Comparator = (a, b) => byText(a[0] ?? '', b[0] ?? '');

/**
 * The first `count` rows in `compare` order among rows offered one at a time, without sorting them all: once
 * `count` rows are held, they form a max-heap whose top is the row to drop for a better one. n offers cost
 * O(n log count) where sorting every match cost O(n log n) per page.
 */
class FirstRows {
  private readonly rows: Row[] = [];
  private isHeap = false;

  constructor(
    private readonly count: number,
    private readonly compare: Comparator,
  ) {}

  offer(row: Row): void {
    const { rows } = this;
    if (rows.length < this.count) {
      rows.push(row);
      return;
    }
    if (!this.isHeap) {
      for (let i = (rows.length >>> 1) - 1; i >= 0; i--) this.siftDown(i);
      this.isHeap = true;
    }
    const worst = rows[0];
    if (worst === undefined || this.compare(row, worst) >= 0) return;
    rows[0] = row;
    this.siftDown(0);
  }

  sorted(): Row[] {
    return this.rows.sort(this.compare);
  }

  /** Moves the row at `start` down until no child is larger (later in `compare` order). */
  private siftDown(start: number): void {
    const { rows, compare } = this;
    const row = rows[start] as Row;
    let i = start;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= rows.length) break;
      const right = left + 1;
      const child = right < rows.length && compare(rows[right] as Row, rows[left] as Row) > 0 ? right : left;
      if (compare(rows[child] as Row, row) <= 0) break;
      rows[i] = rows[child] as Row;
      i = child;
    }
    rows[i] = row;
  }
}

/**
 * The rows an index gives for the query, or undefined when some group has no top-level `=` / `IN` clause on an
 * indexed field of this table (dot-walked fields are not indexed). Each group uses its clause with the fewest
 * hits. Only text and reference fields qualify: their `=` implies equality ignoring case, the index's key, while
 * integers and booleans have looser equalities (`01` = `1`).
 */
function indexCandidates(store: Store, table: TableName, groups: readonly Group[]): Set<Row> | undefined {
  const tableStore = store.table(table);
  const lookups = groups.map((group) => {
    const hits = group.flatMap(([term, ...others]) => {
      if (term === undefined || others.length > 0) return [];
      const { field, operator, value } = term.condition;
      const kind = fieldKind(table, field)?.type;
      const indexable =
        (operator === '=' || operator === 'IN') &&
        (kind === 'string' || kind === 'reference') &&
        tableStore.isIndexed(field);
      return indexable ? [tableStore.lookup(field, operator === 'IN' ? value.split(',') : [value])] : [];
    });
    return hits.reduce<Row[] | undefined>(
      (fewest, rows) => (fewest === undefined || rows.length < fewest.length ? rows : fewest),
      undefined,
    );
  });
  if (lookups.length === 0 || lookups.some((rows) => rows === undefined)) return undefined;
  return new Set(lookups.flatMap((rows) => rows ?? []));
}

/** The smallest sys_id any group admits through a top-level `sys_id>` / `sys_id>=` clause, if each has one. */
function sysIdLowerBound(groups: readonly Group[]): string | undefined {
  let lowest: string | undefined;
  for (const group of groups) {
    const bounds = group.flatMap(([term, ...others]) => {
      const condition = term?.condition;
      const bounding =
        others.length === 0 &&
        condition?.field === 'sys_id' &&
        (condition.operator === '>' || condition.operator === '>=');
      return bounding ? [condition.value] : [];
    });
    if (bounds.length === 0) return undefined;
    // The group's clauses all hold, so its highest bound applies.
    const highest = bounds.reduce((max, bound) => (bound > max ? bound : max));
    if (lowest === undefined || highest < lowest) lowest = highest;
  }
  return lowest;
}

/**
 * Parses strictly when possible. Otherwise splits the query into terms and keeps each one the strict parser
 * accepts on its own, the way ServiceNow ignores what it cannot read.
 */
function parseLeniently(query: string): ParsedQuery {
  try {
    return parseEncodedQuery(query);
  } catch (error) {
    if (!(error instanceof EncodedQueryError)) throw error;
  }
  const groups: Condition[][][] = [[]];
  const orderBy: OrderBy[] = [];
  for (const rawTerm of splitTerms(query)) {
    let term = rawTerm;
    let orWithPrevious = false;
    if (term.startsWith('NQ')) {
      groups.push([]);
      term = term.slice(2);
    } else if (term.startsWith('OR') && !term.startsWith('ORDERBY')) {
      orWithPrevious = true;
      term = term.slice(2);
    }
    const single = parseSingleTerm(term);
    if (single === undefined) continue;
    orderBy.push(...single.orderBy);
    const condition = single.groups[0]?.[0]?.[0];
    if (condition === undefined) continue;
    const group = groups.at(-1) ?? [];
    const previous = group.at(-1);
    if (orWithPrevious && previous !== undefined) previous.push(condition);
    else group.push([condition]);
  }
  return { groups: groups.filter((group) => group.length > 0), orderBy };
}

function parseSingleTerm(term: string): ParsedQuery | undefined {
  try {
    return parseEncodedQuery(escapeValue(term));
  } catch (error) {
    if (error instanceof EncodedQueryError) return undefined;
    throw error;
  }
}

interface ValueSemantics {
  /** 0 when equal; the sign orders them. */
  readonly compare: (a: string, b: string) => number;
  /** `compare(value, wanted)` with the work on `wanted` done once per query rather than once per row. */
  readonly against: (wanted: string) => (value: string) => number;
}

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const caseInsensitive: ValueSemantics = {
  // Equal text is common (rows written together share their timestamps) and needs no lowercasing.
  compare: (a, b) => (a === b ? 0 : byText(a.toLowerCase(), b.toLowerCase())),
  against: (wanted) => {
    const lowerWanted = wanted.toLowerCase();
    return (value) => (value === wanted ? 0 : byText(value.toLowerCase(), lowerWanted));
  },
};
const exact: ValueSemantics = { compare: byText, against: (wanted) => (value) => byText(value, wanted) };
const compareNumbers = (a: string, b: string): number => {
  const [x, y] = [Number(a), Number(b)];
  return a.trim() === '' || b.trim() === '' || Number.isNaN(x) || Number.isNaN(y) ? byText(a, b) : x - y;
};
const numeric: ValueSemantics = {
  compare: compareNumbers,
  against: (wanted) => (value) => compareNumbers(value, wanted),
};
const booleanish = (value: string): string =>
  ['true', '1'].includes(value.toLowerCase()) ? 'true' : 'false';
const boolean: ValueSemantics = {
  compare: (a, b) => byText(booleanish(a), booleanish(b)),
  against: (wanted) => {
    const wantedBoolean = booleanish(wanted);
    return (value) => byText(booleanish(value), wantedBoolean);
  },
};

function semanticsOf(field: string, kind: FieldKind): ValueSemantics {
  if (field === 'sys_id' || kind.type === 'reference') return exact;
  if (kind.type === 'integer') return numeric;
  if (kind.type === 'boolean') return boolean;
  return caseInsensitive;
}

function lastSegment(path: string): string {
  return path.slice(path.lastIndexOf('.') + 1);
}

function compileCondition(store: Store, table: TableName, condition: Condition): Predicate | undefined {
  const accessor = store.accessor(table, condition.field);
  // Passwords are not searchable; treating the term as unknown keeps their stored form out of reach.
  if (accessor === undefined || accessor.kind.type === 'password') return undefined;
  const { get } = accessor;
  const { against } = semanticsOf(lastSegment(condition.field), accessor.kind);
  const wanted = condition.value;
  const lowerWanted = wanted.toLowerCase();
  const compareToWanted = against(wanted);
  const equals = (value: string) => compareToWanted(value) === 0;
  const ordered = (accept: (order: number) => boolean) => (row: Row) => {
    const value = get(row);
    return value !== '' && accept(compareToWanted(value));
  };
  const items = wanted.split(',').map(against);
  const inList = (value: string) => items.some((compareToItem) => compareToItem(value) === 0);
  switch (condition.operator) {
    case '=':
      return (row) => equals(get(row));
    case '!=':
      return (row) => !equals(get(row));
    case '<':
      return ordered((order) => order < 0);
    case '<=':
      return ordered((order) => order <= 0);
    case '>':
      return ordered((order) => order > 0);
    case '>=':
      return ordered((order) => order >= 0);
    case 'IN':
      return (row) => inList(get(row));
    case 'NOT IN':
      return (row) => !inList(get(row));
    case 'LIKE':
      return (row) => get(row).toLowerCase().includes(lowerWanted);
    case 'NOT LIKE':
      return (row) => !get(row).toLowerCase().includes(lowerWanted);
    case 'STARTSWITH':
      return (row) => get(row).toLowerCase().startsWith(lowerWanted);
    case 'ENDSWITH':
      return (row) => get(row).toLowerCase().endsWith(lowerWanted);
    case 'ISEMPTY':
      return (row) => get(row) === '';
    case 'ISNOTEMPTY':
      return (row) => get(row) !== '';
  }
}

/** Empty values sort first, as NULLs do ascending. */
function compileOrder(store: Store, table: TableName, order: OrderBy): Comparator | undefined {
  const accessor = store.accessor(table, order.field);
  if (accessor === undefined || accessor.kind.type === 'password') return undefined;
  const { get } = accessor;
  const { compare } = semanticsOf(lastSegment(order.field), accessor.kind);
  const direction = order.descending ? -1 : 1;
  return (a, b) => {
    const [x, y] = [get(a), get(b)];
    const result = x === '' || y === '' ? Number(y === '') - Number(x === '') : compare(x, y);
    return direction * result;
  };
}
