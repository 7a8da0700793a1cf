import { readFileSync } from 'node:fs';
import { parseTree, printParseErrorCode, type Node as JsonNode, type ParseError } from 'jsonc-parser';
import { ConfigError } from './configError';

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads a JSON settings file as .NET does (comments, trailing commas); errors never quote its text. */
export function readSettingsFile(file: string): JsonObject {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(file, [
      code === 'ENOENT' ? 'the file does not exist' : `the file cannot be read (${code})`,
    ]);
  }
  // .NET reads appsettings files with comments and trailing commas, so we do too. jsonc-parser also
  // reports errors by offset; JSON.parse would quote the text around the error, which may be a secret.
  const errors: ParseError[] = [];
  const source = text.replace(/^\uFEFF/, '');
  const tree = parseTree(source, errors, { allowTrailingComma: true });
  const [first] = errors;
  if (first) {
    // Later errors are mostly echoes of the first one.
    const { line, column } = lineAndColumn(source, first.offset);
    throw new ConfigError(file, [
      `line ${line}, column ${column}: the file is not valid JSON (${printParseErrorCode(first.error)})`,
    ]);
  }
  const parsed = tree === undefined ? undefined : valueOf(tree, source, file);
  if (!isObject(parsed)) throw new ConfigError(file, ['the file must hold a JSON object at the top level']);
  return parsed;
}

/**
 * Builds the value with own properties only. jsonc-parser's own `parse` assigns keys, so a key "__proto__"
 * would replace an object's prototype and its section would vanish silently (or lend its members to every
 * lookup); such a key is refused instead.
 */
function valueOf(node: JsonNode, text: string, file: string): unknown {
  if (node.type === 'array') return (node.children ?? []).map((child) => valueOf(child, text, file));
  if (node.type !== 'object') return node.value;
  const object: JsonObject = {};
  for (const [key, value] of (node.children ?? []).map((property) => property.children ?? [])) {
    if (key === undefined || value === undefined) continue;
    const name = String(key.value);
    if (name === '__proto__') {
      const { line, column } = lineAndColumn(text, key.offset);
      throw new ConfigError(file, [
        `line ${line}, column ${column}: "__proto__" cannot be used as a name (JavaScript reserves it); rename it`,
      ]);
    }
    object[name] = valueOf(value, text, file);
  }
  return object;
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: (before[before.length - 1]?.length ?? 0) + 1 };
}
