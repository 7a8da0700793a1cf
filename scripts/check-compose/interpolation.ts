import {
  formatPath,
  isObject,
  type Json,
  type JsonObject,
  type Locator,
  type PathSegment,
} from './locations';

const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*/;
const BRACED = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+?])([\s\S]*))?$/;

/** A `${NAME:?message}` or `${NAME?message}`: compose stops with the message when NAME is unset. */
export interface RequiredVariable {
  readonly name: string;
  readonly segments: readonly PathSegment[];
}

/**
 * Compose interpolates every string value (never keys) before validating, so a malformed `${...}` makes
 * `docker compose` refuse the whole file, and defaults decide what the schema sees (e.g. a port spec).
 * Variables are treated as unset so the result does not depend on the caller's shell: defaults are what a
 * fresh checkout without a .env file gets. Required variables are collected in `required`.
 */
export function interpolateTree(
  value: Json,
  segments: PathSegment[],
  locator: Locator,
  problems: string[],
  required: RequiredVariable[] = [],
): Json {
  if (typeof value === 'string') {
    const text = interpolateString(
      value,
      (snippet, reason) => {
        problems.push(
          `${locator.at(segments)}: ${formatPath(segments)}: invalid interpolation "${snippet}": ${reason}`,
        );
      },
      (name) => required.push({ name, segments }),
    );
    return castLikeCompose(text, segments);
  }
  if (Array.isArray(value)) {
    return value.map((item, index) =>
      interpolateTree(item, [...segments, index], locator, problems, required),
    );
  }
  if (isObject(value)) {
    const result: JsonObject = {};
    for (const [key, item] of Object.entries(value)) {
      result[key] = interpolateTree(item, [...segments, key], locator, problems, required);
    }
    return result;
  }
  return value;
}

/**
 * Compose converts the strings interpolation leaves at some typed fields before validating (compose-go's
 * interpolateTypeCastMapping), so `replicas: ${N:-1}` is an integer to the schema. The integer fields this
 * project can use; others stay strings and the schema names them.
 */
const INTEGER_FIELDS: readonly (readonly string[])[] = [
  ['deploy', 'replicas'],
  ['scale'],
  ['healthcheck', 'retries'],
];

function castLikeCompose(text: string, segments: readonly PathSegment[]): Json {
  if (segments[0] !== 'services' || !/^-?\d+$/.test(text)) return text;
  const field = segments.slice(2);
  const integer = INTEGER_FIELDS.some(
    (path) => path.length === field.length && path.every((part, index) => part === field[index]),
  );
  return integer ? Number(text) : text;
}

export type InterpolationReporter = (snippet: string, reason: string) => void;

export type RequiredReporter = (name: string) => void;

export function interpolateString(
  text: string,
  report: InterpolationReporter,
  onRequired: RequiredReporter = () => {},
): string {
  let out = '';
  let index = 0;
  while (index < text.length) {
    const char = text[index];
    if (char !== '$') {
      out += char;
      index += 1;
      continue;
    }
    const next = text[index + 1];
    if (next === '$') {
      out += '$';
      index += 2;
      continue;
    }
    if (next === '{') {
      const end = closingBrace(text, index + 2);
      if (end < 0) {
        report(text.slice(index), 'missing closing "}"');
        return out + text.slice(index);
      }
      out += resolveBraced(text.slice(index + 2, end), text.slice(index, end + 1), report, onRequired);
      index = end + 1;
      continue;
    }
    const name = VARIABLE_NAME.exec(text.slice(index + 1));
    if (name) {
      // Unset variable: compose substitutes an empty string.
      index += 1 + name[0].length;
      continue;
    }
    report(
      text.slice(index, index + 2),
      'a "$" must start ${NAME} or $NAME; write "$$" for a literal dollar sign',
    );
    out += '$';
    index += 1;
  }
  return out;
}

/** Nested `${A:-${B}}` defaults are legal, so braces are counted rather than matched with a regex. */
function closingBrace(text: string, from: number): number {
  let depth = 1;
  for (let index = from; index < text.length; index += 1) {
    if (text[index] === '$' && (text[index + 1] === '{' || text[index + 1] === '$')) {
      if (text[index + 1] === '{') depth += 1;
      index += 1;
    } else if (text[index] === '}') {
      depth -= 1;
      if (depth === 0) return index;
    }
  }
  return -1;
}

function resolveBraced(
  body: string,
  snippet: string,
  report: InterpolationReporter,
  onRequired: RequiredReporter,
): string {
  const match = BRACED.exec(body);
  if (!match) {
    if (body === '') report(snippet, 'empty variable name');
    else if (VARIABLE_NAME.test(body)) {
      report(snippet, 'unsupported modifier after the variable name (use :-, -, :+, +, :? or ?)');
    } else report(snippet, 'variable names start with a letter or "_" and hold only letters, digits and "_"');
    return '';
  }
  const operator = match[2];
  const argument = match[3] ?? '';
  if (operator === ':-' || operator === '-') return interpolateString(argument, report, onRequired);
  if (operator === ':+' || operator === '+') {
    // Unset: the alternate value is dropped (so nothing in it is required), but it must still be valid.
    interpolateString(argument, report);
    return '';
  }
  // Unset with no default: compose substitutes "". Required (`?`): compose stops at deploy time unless the
  // variable is set, a deployment concern except where the project rules say otherwise.
  if (operator === ':?' || operator === '?') onRequired(match[1] ?? '');
  return '';
}
