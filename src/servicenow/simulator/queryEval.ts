import {
  EncodedQueryError,
  escapeValue,
  parseEncodedQuery,
  splitTerms,
  type Condition,
  type OrderBy,
  type ParsedQuery,
} from '../encodedQuery';
import type { FieldKind, TableName } from '../tables';
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
}

export interface Page {
  readonly rows: readonly Row[];
  /** Undefined when the caller did not need it and the scan stopped early. */
  readonly total: number | undefined;
}

export function compileQuery(store: Store, table: TableName, query: string): CompiledQuery {
  const parsed = parseLeniently(query);
  const groups = parsed.groups
    .map((group) =>
      group
        .map((clause) => clause.flatMap((condition) => compileCondition(store, table, condition) ?? []))
        .filter((clause) => clause.length > 0),
    )
    // A group whose every term was dropped matches every row, as ServiceNow's dropped terms do.
    .map(
      (clauses): Predicate =>
        (row) =>
          clauses.every((clause) => clause.some((test) => test(row))),
    );
  const matches: Predicate = groups.length === 0 ? () => true : (row) => groups.some((group) => group(row));
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
  };
}

/** Selects `limit` matching rows after `offset`. Counting every match is skipped when `countAll` is false. */
export function selectPage(
  store: Store,
  table: TableName,
  query: CompiledQuery,
  window: { readonly offset: number; readonly limit: number; readonly countAll: boolean },
): Page {
  const tableStore = store.table(table);
  if (query.compare !== undefined) {
    const matching = [...tableStore.inCreationOrder()].filter(query.matches).sort(query.compare);
    return { rows: matching.slice(window.offset, window.offset + window.limit), total: matching.length };
  }
  const end = window.offset + window.limit;
  const rows: Row[] = [];
  let seen = 0;
  for (const row of query.inSysIdOrder ? tableStore.inSysIdOrder() : tableStore.inCreationOrder()) {
    if (!query.matches(row)) continue;
    if (seen >= window.offset && seen < end) rows.push(row);
    seen++;
    if (seen >= end && !window.countAll) return { rows, total: undefined };
  }
  return { rows, total: seen };
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
}

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const caseInsensitive: ValueSemantics = { compare: (a, b) => byText(a.toLowerCase(), b.toLowerCase()) };
const exact: ValueSemantics = { compare: byText };
const numeric: ValueSemantics = {
  compare: (a, b) => {
    const [x, y] = [Number(a), Number(b)];
    return a.trim() === '' || b.trim() === '' || Number.isNaN(x) || Number.isNaN(y) ? byText(a, b) : x - y;
  },
};
const booleanish = (value: string): string =>
  ['true', '1'].includes(value.toLowerCase()) ? 'true' : 'false';
const boolean: ValueSemantics = { compare: (a, b) => byText(booleanish(a), booleanish(b)) };

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
  const { compare } = semanticsOf(lastSegment(condition.field), accessor.kind);
  const wanted = condition.value;
  const lowerWanted = wanted.toLowerCase();
  const equals = (value: string) => compare(value, wanted) === 0;
  const ordered = (accept: (order: number) => boolean) => (row: Row) => {
    const value = get(row);
    return value !== '' && accept(compare(value, wanted));
  };
  const items = wanted.split(',');
  const inList = (value: string) => items.some((item) => compare(value, item) === 0);
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
