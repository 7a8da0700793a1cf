import Handlebars from 'handlebars';

/**
 * Handlebars for ticket text. Templates come from the settings file; the data they render comes from outside
 * (provisioning orders), so prototype access stays denied and unknown helpers are rejected when the template is
 * compiled rather than when an order reaches it.
 *
 * No Node built-ins: this module may be reused outside the worker.
 */

export const TEMPLATE_FIELDS = ['TitleTemplate', 'DescriptionTemplate', 'AdditionalText'] as const;
export type TemplateField = (typeof TEMPLATE_FIELDS)[number];

export class TicketTemplateError extends Error {
  constructor(
    readonly resourceType: string,
    readonly template: TemplateField | 'mapping',
    detail: string,
  ) {
    super(`Resource type "${resourceType}": ${detail}`);
    this.name = 'TicketTemplateError';
  }
}

const env = Handlebars.create();

interface CompilerInternals {
  isInline(): number;
  replaceStack(wrap: (current: unknown) => unknown[]): void;
  append(): void;
}
type CompilerConstructor = new () => CompilerInternals;
const withCompiler = env as typeof env & { JavaScriptCompiler: CompilerConstructor };

/**
 * With `noEscape`, Handlebars 4.7 joins adjacent values with `+`, so `{{a}}{{b}}` over two numbers renders their
 * sum (handlebars.js#1838). Coercing each value to text before it is joined keeps `12` from becoming `3`.
 */
class TextCompiler extends withCompiler.JavaScriptCompiler {
  /** Block bodies are compiled by `new this.compiler()`. */
  readonly compiler = TextCompiler;

  override append(): void {
    if (this.isInline()) this.replaceStack((current) => [' != null ? "" + ', current, ' : ""']);
    super.append();
  }
}
withCompiler.JavaScriptCompiler = TextCompiler;

/** Order attributes arrive as numbers, booleans or strings: `==` compares what the ticket would show. */
const OPERATORS: Readonly<Record<string, (left: unknown, right: unknown) => boolean>> = {
  '==': (left, right) => display(left) === display(right),
  '===': (left, right) => left === right,
  '!=': (left, right) => display(left) !== display(right),
  '!==': (left, right) => left !== right,
  '<': (left, right) => compare(left, right) < 0,
  '<=': (left, right) => compare(left, right) <= 0,
  '>': (left, right) => compare(left, right) > 0,
  '>=': (left, right) => compare(left, right) >= 0,
  '&&': (left, right) => truthy(left) && truthy(right),
  '||': (left, right) => truthy(left) || truthy(right),
};

const OPERATOR_LIST = Object.keys(OPERATORS).join(' ');

function numeric(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const parsed = Number(value);
  return Number.isFinite(parsed) ? parsed : undefined;
}

/** Numbers (or numeric strings) by value, so '10' > '9'; anything else by text. */
function compare(left: unknown, right: unknown): number {
  const [a, b] = [numeric(left), numeric(right)];
  if (a !== undefined && b !== undefined) return a - b;
  const [x, y] = [display(left), display(right)];
  return x < y ? -1 : x > y ? 1 : 0;
}

/** As `{{#if}}` sees it: empty lists are false. */
function truthy(value: unknown): boolean {
  return Array.isArray(value) ? value.length > 0 : Boolean(value);
}

const NAME_KEYS = ['InternalDisplayName', 'DisplayName', 'Identifier', 'Id'];

/** Linked entities are objects; a ticket shows their name rather than `[object Object]`. */
function display(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map(display).join(', ');
  // Null, and what JSON cannot hold (functions, symbols).
  if (typeof value !== 'object' || value === null) return '';
  const name = NAME_KEYS.find((key) => Object.hasOwn(value, key));
  return name === undefined ? JSON.stringify(value) : display((value as Record<string, unknown>)[name]);
}

function isEmpty(value: unknown): boolean {
  return (
    value === null || value === undefined || value === '' || (Array.isArray(value) && value.length === 0)
  );
}

interface HelperCall {
  /** Absent when the helper is used inline or as a subexpression. */
  fn?: (context: unknown) => string;
  inverse: (context: unknown) => string;
  loc?: hbs.AST.SourceLocation;
}

function ifCondError(problem: string, loc: hbs.AST.SourceLocation | undefined): Error {
  const at = loc === undefined ? '' : ` at line ${loc.start.line}, column ${loc.start.column + 1}`;
  return new Error(`ifCond${at}: ${problem}`);
}

/** The same wording at check time and at render time. */
function arityProblem(argumentCount: number): string | undefined {
  return argumentCount === 3
    ? undefined
    : `takes three arguments, e.g. {{#ifCond ChangeType '==' 'Added'}}, not ${argumentCount}`;
}

function operatorProblem(operator: unknown): string | undefined {
  return typeof operator === 'string' && Object.hasOwn(OPERATORS, operator)
    ? undefined
    : `unknown operator "${display(operator)}" (use one of ${OPERATOR_LIST})`;
}

function splitCall(args: unknown[]): { params: unknown[]; options: HelperCall } {
  return { params: args.slice(0, -1), options: args[args.length - 1] as HelperCall };
}

env.registerHelper('ifCond', function (this: unknown, ...args: unknown[]) {
  const { params, options } = splitCall(args);
  const [left, operator, right] = params;
  const problem = arityProblem(params.length) ?? operatorProblem(operator);
  if (problem !== undefined) throw ifCondError(problem, options.loc);
  const holds = OPERATORS[operator as string]!(left, right);
  if (options.fn === undefined) return holds;
  return holds ? options.fn(this) : options.inverse(this);
});

env.registerHelper('join', (...args: unknown[]) => {
  const { params } = splitCall(args);
  const [value, separator] = params;
  const items = Array.isArray(value) ? value : isEmpty(value) ? [] : [value];
  return items
    .map(display)
    .filter((item) => item !== '')
    .join(typeof separator === 'string' ? separator : ', ');
});

env.registerHelper(
  'default',
  (...args: unknown[]) => splitCall(args).params.find((value) => !isEmpty(value)) ?? '',
);

const COMPILE_OPTIONS = {
  strict: false,
  noEscape: true,
  knownHelpers: { ifCond: true, join: true, default: true },
  knownHelpersOnly: true,
} satisfies CompileOptions;

const HELPER_LIST = [
  ...Object.keys(COMPILE_OPTIONS.knownHelpers),
  'if',
  'unless',
  'each',
  'with',
  'lookup',
].join(', ');

/** Explicit denials also keep Handlebars from logging a warning for every denied property. */
const RUNTIME_OPTIONS = { allowProtoPropertiesByDefault: false, allowProtoMethodsByDefault: false };

/** Finds ifCond misuse that would otherwise fail only when an order reaches it. */
class IfCondCheck extends Handlebars.Visitor {
  override MustacheStatement(node: hbs.AST.MustacheStatement): void {
    check(node);
    super.MustacheStatement(node);
  }

  override BlockStatement(node: hbs.AST.BlockStatement): void {
    check(node);
    super.BlockStatement(node);
  }

  override SubExpression(node: hbs.AST.SubExpression): void {
    check(node);
    super.SubExpression(node);
  }
}

function isIfCond(path: hbs.AST.PathExpression | hbs.AST.Literal): boolean {
  return path.type === 'PathExpression' && (path as hbs.AST.PathExpression).original === 'ifCond';
}

function check(node: hbs.AST.MustacheStatement | hbs.AST.BlockStatement | hbs.AST.SubExpression): void {
  if (!isIfCond(node.path)) return;
  const operator = node.params[1];
  // Only a literal operator is known before rendering.
  const problem =
    arityProblem(node.params.length) ??
    (operator?.type === 'StringLiteral'
      ? operatorProblem((operator as hbs.AST.StringLiteral).value)
      : undefined);
  if (problem !== undefined) throw ifCondError(problem, node.loc);
}

/** One line for the check report; Handlebars' own messages span lines and name its options. */
function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const parse = /^(Parse error on line \d+):\n(.*)\n-*\^\n(.*)$/s.exec(message);
  if (parse) return `${parse[1]} near "${parse[2]}": ${parse[3]}`;
  return message
    .replace(
      / - (\d+):(\d+)$/,
      (_match, line: string, column: string) => ` at line ${line}, column ${Number(column) + 1}`,
    )
    .replace(
      /^You specified knownHelpersOnly, but used the unknown helper (\S+)(.*)$/,
      `unknown helper "$1"$2 (the helpers are ${HELPER_LIST})`,
    )
    .replace(/\n+/g, ' ');
}

const cache = new Map<string, { source: string; render: HandlebarsTemplateDelegate }>();

function compiled(resourceType: string, field: TemplateField, source: string): HandlebarsTemplateDelegate {
  const key = `${resourceType}\u0000${field}`;
  const cached = cache.get(key);
  if (cached?.source === source) return cached.render;
  // `compile` defers its errors to the first render; precompiling raises them now.
  env.precompile(source, COMPILE_OPTIONS);
  new IfCondCheck().accept(env.parse(source));
  const render = env.compile(source, COMPILE_OPTIONS);
  cache.set(key, { source, render });
  return render;
}

export type TemplateSources = { readonly [Field in TemplateField]?: string };

/**
 * Compiles every template of every mapping; one line per broken template, e.g.
 * `TicketConnector.ResourceTypeMappings.SAP_Role.TitleTemplate: Parse error on line 1 near ...`.
 */
export function compileMappings(mappings: Readonly<Record<string, TemplateSources>>): string[] {
  const problems: string[] = [];
  for (const [resourceType, mapping] of Object.entries(mappings)) {
    for (const field of TEMPLATE_FIELDS) {
      const source = mapping[field];
      if (source === undefined) continue;
      try {
        compiled(resourceType, field, source);
      } catch (error) {
        problems.push(
          `TicketConnector.ResourceTypeMappings.${resourceType}.${field}: ${describeError(error)}`,
        );
      }
    }
  }
  return problems;
}

/** Renders one template of a resource type's mapping; any failure is a {@link TicketTemplateError}. */
export function renderTemplate(
  resourceType: string,
  field: TemplateField,
  source: string,
  context: Readonly<Record<string, unknown>>,
): string {
  try {
    return String(compiled(resourceType, field, source)(context, RUNTIME_OPTIONS));
  } catch (error) {
    throw new TicketTemplateError(
      resourceType,
      field,
      `${field} cannot be rendered: ${describeError(error)}`,
    );
  }
}
