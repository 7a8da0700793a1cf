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

/**
 * Compose interpolates every string value (never keys) before validating, so a malformed `${...}` makes
 * `docker compose` refuse the whole file, and defaults decide what the schema sees (e.g. a port spec).
 * Variables are treated as unset so the result does not depend on the caller's shell: defaults are what a
 * fresh checkout without a .env file gets.
 */
export function interpolateTree(
  value: Json,
  segments: PathSegment[],
  locator: Locator,
  problems: string[],
): Json {
  if (typeof value === 'string') {
    return interpolateString(value, (snippet, reason) => {
      problems.push(
        `${locator.at(segments)}: ${formatPath(segments)}: invalid interpolation "${snippet}": ${reason}`,
      );
    });
  }
  if (Array.isArray(value)) {
    return value.map((item, index) => interpolateTree(item, [...segments, index], locator, problems));
  }
  if (isObject(value)) {
    const result: JsonObject = {};
    for (const [key, item] of Object.entries(value)) {
      result[key] = interpolateTree(item, [...segments, key], locator, problems);
    }
    return result;
  }
  return value;
}

export type InterpolationReporter = (snippet: string, reason: string) => void;

export function interpolateString(text: string, report: InterpolationReporter): string {
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
      out += resolveBraced(text.slice(index + 2, end), text.slice(index, end + 1), report);
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

function resolveBraced(body: string, snippet: string, report: InterpolationReporter): string {
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
  if (operator === ':-' || operator === '-') return interpolateString(argument, report);
  if (operator === ':+' || operator === '+') {
    interpolateString(argument, report); // unset: the alternate value is dropped, but must still be valid
    return '';
  }
  // Unset with no default, or `?` (required): compose would substitute "" or stop with the given message at
  // deploy time; that is a deployment concern, not a defect of the file.
  return '';
}
