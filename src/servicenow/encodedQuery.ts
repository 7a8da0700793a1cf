/**
 * ServiceNow encoded queries (`sysparm_query`): one grammar shared by the client, which builds them, and the
 * simulator, which evaluates them.
 *
 * Shape: `^NQ` separates OR'ed groups; inside a group `^` ANDs clauses; `^OR` ORs a term with the one before it
 * (so `a=1^b=2^ORc=3` is `a=1 AND (b=2 OR c=3)`); `ORDERBY` / `ORDERBYDESC` terms sort the whole result.
 * A literal `^` inside a value is written `^^`.
 */

export const OPERATORS = [
  // Longest first, so that a prefix never shadows a longer operator when parsing.
  'ISNOTEMPTY',
  'ISEMPTY',
  'STARTSWITH',
  'ENDSWITH',
  'NOT LIKE',
  'NOT IN',
  'LIKE',
  'IN',
  '!=',
  '<=',
  '>=',
  '=',
  '<',
  '>',
] as const;

export type Operator = (typeof OPERATORS)[number];

export interface Condition {
  readonly field: string;
  readonly operator: Operator;
  /** The unescaped value; empty for ISEMPTY / ISNOTEMPTY. For IN / NOT IN, the items joined by `,`. */
  readonly value: string;
}

/** Terms OR'ed together with `^OR`. */
export type Disjunction = readonly Condition[];
/** Clauses AND'ed together with `^`. */
export type Group = readonly Disjunction[];

export interface OrderBy {
  readonly field: string;
  readonly descending: boolean;
}

export interface ParsedQuery {
  /** OR'ed with `^NQ`; an empty list matches every row. */
  readonly groups: readonly Group[];
  readonly orderBy: readonly OrderBy[];
}

/** A query that cannot be built or parsed safely. Never contains anything but the field name and the reason. */
export class EncodedQueryError extends Error {
  constructor(
    readonly field: string | undefined,
    readonly problem: string,
  ) {
    super(field === undefined ? `Encoded query: ${problem}` : `Encoded query field '${field}': ${problem}`);
    this.name = 'EncodedQueryError';
  }
}

/** Dot-walked lowercase field names, as ServiceNow names them (`caller_id.user_name`, `u_custom`). */
const FIELD_NAME = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;
const UNARY: ReadonlySet<Operator> = new Set<Operator>(['ISEMPTY', 'ISNOTEMPTY']);
const LIST: ReadonlySet<Operator> = new Set<Operator>(['IN', 'NOT IN']);
// ServiceNow reads `a@b` as a range or relative-date expression in comparisons and list items; it has no escape.
const AT_SIGN_FORBIDDEN: ReadonlySet<Operator> = new Set<Operator>(['IN', 'NOT IN', '<', '<=', '>', '>=']);

export function escapeValue(value: string): string {
  return value.replaceAll('^', '^^');
}

/** Why a value cannot be sent safely, or undefined when it can. */
function valueProblem(operator: Operator, value: string): string | undefined {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what this rejects
  if (/[\u0000-\u001f\u007f]/.test(value)) return 'value contains a control character';
  // ServiceNow evaluates `javascript:` values server-side.
  if (/^\s*javascript:/i.test(value)) return "value must not start with 'javascript:'";
  if (AT_SIGN_FORBIDDEN.has(operator) && value.includes('@'))
    return `'@' cannot be escaped in a ${operator} value`;
  return undefined;
}

/** Builds the error a query problem is reported with, so that each caller can use its own error type. */
export type QueryFailure = (field: string | undefined, problem: string) => Error;

const encodedQueryFailure: QueryFailure = (field, problem) => new EncodedQueryError(field, problem);

/**
 * Builds an encoded query from fields checked against an allow-list and values that are escaped or rejected.
 * Immutable: every method returns a new builder.
 */
export class EncodedQuery {
  private constructor(
    private readonly allowedFields: ReadonlySet<string>,
    private readonly fail: QueryFailure,
    private readonly groups: readonly Group[],
    private readonly order: readonly OrderBy[],
  ) {}

  static over(allowedFields: Iterable<string>, fail: QueryFailure = encodedQueryFailure): EncodedQuery {
    return new EncodedQuery(new Set(allowedFields), fail, [[]], []);
  }

  /** Adds a clause AND'ed with the previous ones. */
  where(field: string, operator: Operator, value: string | readonly string[] = ''): EncodedQuery {
    const condition = this.condition(field, operator, value);
    return this.withLastGroup((group) => [...group, [condition]]);
  }

  /** ORs a condition with the previous clause (`^OR`). */
  or(field: string, operator: Operator, value: string | readonly string[] = ''): EncodedQuery {
    const condition = this.condition(field, operator, value);
    return this.withLastGroup((group) => {
      const last = group.at(-1);
      if (last === undefined) throw this.fail(field, '^OR needs a condition before it');
      return [...group.slice(0, -1), [...last, condition]];
    });
  }

  /** Starts a new group OR'ed with everything before it (`^NQ`). */
  newQuery(): EncodedQuery {
    if (this.groups.at(-1)?.length === 0) throw this.fail(undefined, '^NQ needs a condition before it');
    return this.with([...this.groups, []], this.order);
  }

  orderBy(field: string, descending = false): EncodedQuery {
    this.checkField(field);
    return this.with(this.groups, [...this.order, { field, descending }]);
  }

  /**
   * ANDs a parsed query (for example a filter from configuration) with this one, re-checking every field against
   * the allow-list. `^NQ` groups are distributed, `(A) AND (F1 OR F2)` = `(A AND F1) OR (A AND F2)`, so a filter
   * can never widen the query it is added to. Call it after the builder's own conditions: a later `where` only
   * extends the last group. The filter's own ordering is kept unless `ignoreOrder` (keyset paging must order by
   * its key alone).
   */
  and(query: ParsedQuery, options: { ignoreOrder?: boolean } = {}): EncodedQuery {
    const filterGroups = query.groups.map((group) =>
      group.map((clause) => clause.map((c) => this.condition(c.field, c.operator, c.value))),
    );
    const base = this.groups.filter((g) => g.length > 0);
    const groups =
      filterGroups.length === 0
        ? this.groups
        : (base.length === 0 ? [[]] : base).flatMap((b) => filterGroups.map((f) => [...b, ...f]));
    return (options.ignoreOrder === true ? [] : query.orderBy).reduce<EncodedQuery>(
      (built, o) => built.orderBy(o.field, o.descending),
      this.with(groups, this.order),
    );
  }

  toParsed(): ParsedQuery {
    return { groups: this.groups.filter((g) => g.length > 0), orderBy: this.order };
  }

  toString(): string {
    return serialize(this.toParsed());
  }

  private with(groups: readonly Group[], order: readonly OrderBy[]): EncodedQuery {
    return new EncodedQuery(this.allowedFields, this.fail, groups, order);
  }

  private withLastGroup(change: (group: Group) => Group): EncodedQuery {
    const groups = [...this.groups];
    groups[groups.length - 1] = change(groups.at(-1) ?? []);
    return this.with(groups, this.order);
  }

  private checkField(field: string): void {
    if (!FIELD_NAME.test(field)) throw this.fail(field, 'is not a valid field name');
    // ServiceNow silently drops terms on unknown fields, which would widen the query to every row.
    if (!this.allowedFields.has(field)) throw this.fail(field, 'is not an allowed field for this query');
  }

  private checkValue(field: string, operator: Operator, value: string): void {
    const problem = valueProblem(operator, value);
    if (problem !== undefined) throw this.fail(field, problem);
  }

  private condition(field: string, operator: Operator, value: string | readonly string[]): Condition {
    this.checkField(field);
    if (!(OPERATORS as readonly string[]).includes(operator)) {
      throw this.fail(field, `unknown operator '${String(operator)}'`);
    }
    if (UNARY.has(operator)) return { field, operator, value: '' };
    if (LIST.has(operator)) {
      const items = typeof value === 'string' ? value.split(',') : value;
      if (items.length === 0) throw this.fail(field, `${operator} needs at least one value`);
      for (const item of items) {
        if (typeof value !== 'string' && item.includes(',')) {
          throw this.fail(field, `',' cannot be escaped inside an ${operator} item`);
        }
        if (item.trim() === '') throw this.fail(field, `${operator} items must not be empty`);
        this.checkValue(field, operator, item);
      }
      return { field, operator, value: items.join(',') };
    }
    if (typeof value !== 'string') throw this.fail(field, `${operator} takes a single value`);
    this.checkValue(field, operator, value);
    return { field, operator, value };
  }
}

export function serialize(query: ParsedQuery): string {
  const groups = query.groups.map((group) =>
    group
      .map((clause) =>
        clause
          .map((c) => `${c.field}${c.operator}${UNARY.has(c.operator) ? '' : escapeValue(c.value)}`)
          .join('^OR'),
      )
      .join('^'),
  );
  const order = query.orderBy.map((o) => `${o.descending ? 'ORDERBYDESC' : 'ORDERBY'}${o.field}`);
  return [groups.join('^NQ'), ...order].filter((part) => part !== '').join('^');
}

/** Splits on single `^`, turning `^^` back into a literal `^`. */
export function splitTerms(query: string): string[] {
  const terms: string[] = [];
  let current = '';
  for (let i = 0; i < query.length; i++) {
    const ch = query[i];
    if (ch === '^') {
      if (query[i + 1] === '^') {
        current += '^';
        i++;
        continue;
      }
      terms.push(current);
      current = '';
      continue;
    }
    current += ch;
  }
  terms.push(current);
  return terms;
}

function parseCondition(term: string): Condition {
  const field = /^[a-z0-9_.]+/.exec(term)?.[0];
  if (field === undefined) throw new EncodedQueryError(undefined, 'a term does not start with a field name');
  const rest = term.slice(field.length);
  const operator = OPERATORS.find((op) => rest.startsWith(op));
  if (operator === undefined) throw new EncodedQueryError(field, 'has no known operator');
  return { field, operator, value: UNARY.has(operator) ? '' : rest.slice(operator.length) };
}

/**
 * Parses an encoded query. Strict: where ServiceNow would silently ignore a malformed term, this throws, so a
 * configured filter is never quietly widened. `EQ` (the end-of-query marker ServiceNow's UI appends) is accepted.
 */
export function parseEncodedQuery(query: string): ParsedQuery {
  const groups: Condition[][][] = [[]];
  const orderBy: OrderBy[] = [];
  if (query.trim() === '') return { groups: [], orderBy };
  for (const rawTerm of splitTerms(query)) {
    let term = rawTerm;
    const group = groups.at(-1) as Condition[][];
    if (term === 'EQ' || term === '') continue;
    if (term.startsWith('ORDERBYDESC')) {
      orderBy.push({ field: term.slice('ORDERBYDESC'.length), descending: true });
      continue;
    }
    if (term.startsWith('ORDERBY')) {
      orderBy.push({ field: term.slice('ORDERBY'.length), descending: false });
      continue;
    }
    if (term.startsWith('NQ')) {
      if (group.length === 0) throw new EncodedQueryError(undefined, '^NQ needs a condition before it');
      groups.push([]);
      term = term.slice(2);
      if (term === '') continue;
      (groups.at(-1) as Condition[][]).push([parseCondition(term)]);
      continue;
    }
    if (term.startsWith('OR')) {
      const previous = group.at(-1);
      if (previous === undefined) throw new EncodedQueryError(undefined, '^OR needs a condition before it');
      previous.push(parseCondition(term.slice(2)));
      continue;
    }
    group.push([parseCondition(term)]);
  }
  for (const o of orderBy) {
    if (!FIELD_NAME.test(o.field))
      throw new EncodedQueryError(o.field, 'is not a valid field name to order by');
  }
  return { groups: groups.filter((g) => g.length > 0), orderBy };
}
