import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseTree, printParseErrorCode, type Node as JsonNode, type ParseError } from 'jsonc-parser';
import type { z } from 'zod';
import { isSecretSetting, settingsFileSchema, type SettingsFile } from './schema';

/** Environment variables of the form SNOW_CONNECTOR__Connections__Main__Password override file values. */
export const ENV_OVERRIDE_PREFIX = 'SNOW_CONNECTOR__';
export const CONFIG_PATH_ENV = 'SNOW_CONNECTOR_CONFIG';
export const DEFAULT_CONFIG_FILE = 'appsettings.agent.json';

export interface LoadedConfig {
  /** The file the settings came from, or undefined when running on embedded defaults. */
  file: string | undefined;
  settings: SettingsFile;
}

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(
      `Invalid configuration in ${source} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((problem) => `  - ${problem}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

export function resolveConfigPath(
  explicitPath: string | undefined,
  env: NodeJS.ProcessEnv,
  cwd = process.cwd(),
): string | undefined {
  const chosen = explicitPath ?? env[CONFIG_PATH_ENV];
  if (chosen) return path.resolve(cwd, chosen);
  const conventional = path.resolve(cwd, DEFAULT_CONFIG_FILE);
  return existsSync(conventional) ? conventional : undefined;
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readSettingsFile(file: string): JsonObject {
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

/** Mirrors .NET configuration: `__` separates levels. */
function applyEnvOverrides(settings: JsonObject, env: NodeJS.ProcessEnv): string[] {
  const applied: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(ENV_OVERRIDE_PREFIX) || value === undefined) continue;
    const keys = name.slice(ENV_OVERRIDE_PREFIX.length).split('__').filter(Boolean);
    if (keys.length === 0) continue;
    setPath(settings, keys, value);
    applied.push(keys.join('.'));
  }
  const taskQueue = env.TEMPORAL_TASK_QUEUE;
  if (taskQueue) setPath(settings, ['TicketConnector', 'Temporal', 'TaskQueue'], taskQueue);
  return applied;
}

/** Sets a nested value, matching existing keys case-insensitively as .NET configuration does. */
function setPath(settings: JsonObject, keys: string[], value: unknown): void {
  let node = settings;
  keys.forEach((key, index) => {
    const existing =
      Object.keys(node).find((candidate) => candidate.toLowerCase() === key.toLowerCase()) ?? key;
    if (index === keys.length - 1) {
      node[existing] = value;
      return;
    }
    // Own keys only: a section named like an Object.prototype member ("constructor") is created, not inherited.
    const child = Object.hasOwn(node, existing) ? node[existing] : undefined;
    if (!isObject(child)) node[existing] = {};
    node = node[existing] as JsonObject;
  });
}

function collectSecrets(value: unknown, path: string[] = [], found: string[] = []): string[] {
  if (!isObject(value)) return found;
  for (const [key, child] of Object.entries(value)) {
    // Very short values would mask ordinary words; reports never print values, so this is only a backstop.
    if (isSecretSetting([...path, key]) && typeof child === 'string' && child.length >= 4) found.push(child);
    else collectSecrets(child, [...path, key], found);
  }
  return found;
}

/** One line per problem: an issue listing several unknown keys becomes one problem per key. */
function describeIssue(issue: z.core.$ZodIssue): string[] {
  const where = issue.path.length > 0 ? issue.path.map(String).join('.') : '(top level)';
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map(
        (key) =>
          `${issue.path.length > 0 ? `${where}.` : ''}${key}: is not a known setting (check the spelling)`,
      );
    case 'invalid_key':
      return [`${where}: ${issue.issues.map((inner) => inner.message).join('; ')}`];
    default:
      return [`${where}: ${issue.message}`];
  }
}

/**
 * Validates raw settings (already parsed JSON) into typed settings.
 * Every problem is reported at once, by key; values are never echoed, and any secret that might still
 * surface in a message is masked.
 */
export function parseSettings(raw: JsonObject, source: string): SettingsFile {
  const result = settingsFileSchema.safeParse(raw);
  if (result.success) return result.data;
  const secrets = collectSecrets(raw);
  const problems = result.error.issues
    .flatMap(describeIssue)
    .map((problem) => secrets.reduce((text, secret) => text.split(secret).join('***'), problem));
  throw new ConfigError(source, problems);
}

export function loadConfig(
  options: { file?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): LoadedConfig {
  const env = options.env ?? process.env;
  const file = resolveConfigPath(options.file, env, options.cwd);
  const raw = file ? readSettingsFile(file) : {};
  const overridden = applyEnvOverrides(raw, env);
  const source = file ?? 'embedded defaults';
  const described = overridden.length > 0 ? `${source} (with environment overrides)` : source;
  return { file, settings: parseSettings(raw, described) };
}
