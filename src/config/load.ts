import { existsSync } from 'node:fs';
import path from 'node:path';
import { environmentLayer } from '../credentials/environment';
import { mergeLayers, treeLayer } from '../credentials/layers';
import { liveSettings, type LiveSettings, type LiveSettingsOptions } from '../credentials/refresh';
import { resolveSettingsTree, type StoreOptions } from '../credentials/resolve';
import { isObject, type JsonObject } from '../credentials/settingsTree';
import { ConfigError } from './configError';
import { describeIssue } from './issues';
import { isSecretSetting, settingsFileSchema, type SettingsFile } from './schema';
import { readSettingsFile } from './settingsFile';

export { ConfigError } from './configError';
export { ENV_OVERRIDE_PREFIX } from '../credentials/environment';
export const CONFIG_PATH_ENV = 'SNOW_CONNECTOR_CONFIG';
export const DEFAULT_CONFIG_FILE = 'appsettings.agent.json';

export interface LoadedConfig {
  /** The file the settings came from, or undefined when running on embedded defaults. */
  file: string | undefined;
  settings: SettingsFile;
}

/** Settings from every source, with where each value came from and a way to read the stores again. */
export interface LoadedSettings extends LoadedConfig {
  /** Dotted setting path (as spelled in the file) -> where its value came from; never the value. */
  readonly sources: ReadonlyMap<string, string>;
  /** The settings as they are now: `settings` at start, then whatever the last re-read gave. */
  readonly live: LiveSettings;
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

function collectSecrets(value: unknown, path: string[] = [], found: string[] = []): string[] {
  if (!isObject(value)) return found;
  for (const [key, child] of Object.entries(value)) {
    // Very short values would mask ordinary words; reports never print values, so this is only a backstop.
    if (isSecretSetting([...path, key]) && typeof child === 'string' && child.length >= 4) found.push(child);
    else collectSecrets(child, [...path, key], found);
  }
  return found;
}

/**
 * Validates raw settings (already parsed JSON) into typed settings.
 * Every problem is reported at once, by key; values are never echoed, and any secret that might still
 * surface in a message is masked.
 */
export function parseSettings(
  raw: JsonObject,
  source: string,
  /** Values from secret stores: masked wherever they sit in the tree. */
  storeSecrets: readonly string[] = [],
): SettingsFile {
  const result = settingsFileSchema.safeParse(raw);
  if (result.success) return result.data;
  const secrets = [...collectSecrets(raw), ...storeSecrets.filter((secret) => secret.length >= 4)].sort(
    (a, b) => b.length - a.length,
  );
  const problems = result.error.issues
    .flatMap((issue) => describeIssue(issue))
    .map((problem) => secrets.reduce((text, secret) => text.split(secret).join('***'), problem));
  throw new ConfigError(source, problems);
}

/**
 * The settings file and environment overrides only, synchronously: for tests and scripts that build settings
 * from a file. Entry points use loadSettings, which also reads the credential stores.
 */
export function loadConfig(
  options: { file?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): LoadedConfig {
  const env = options.env ?? process.env;
  const file = resolveConfigPath(options.file, env, options.cwd);
  const source = file ?? 'embedded defaults';
  const environment = environmentLayer(env);
  const raw = mergeLayers([treeLayer(file ? readSettingsFile(file) : {}, source), environment]).tree;
  const described = environment.values.length > 0 ? `${source} (with environment overrides)` : source;
  return { file, settings: parseSettings(raw, described) };
}

export interface LoadSettingsOptions {
  readonly file?: string | undefined;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** How the stores are reached (tests: a local CA, a token credential). */
  readonly stores?: StoreOptions;
  /** How often the stores may be read again after authentication failures (default: once per 30 s). */
  readonly refresh?: LiveSettingsOptions;
}

/**
 * The settings from every source, in this order, each overriding the previous where it has a value:
 * `appsettings.agent.json`, `appsettings.encrypted.agent.json`, Azure Key Vault, CyberArk, `SNOW_CONNECTOR__...`
 * environment variables. Read once here; `live.reread()` reads them all again (after an authentication failure).
 */
export async function loadSettings(options: LoadSettingsOptions = {}): Promise<LoadedSettings> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const file = resolveConfigPath(options.file, env, cwd);
  const read = async () => {
    const tree = await resolveSettingsTree({
      file,
      env,
      cwd,
      ...(options.stores ? { stores: options.stores } : {}),
    });
    return {
      settings: parseSettings(tree.tree, tree.description, tree.storeValues),
      sources: tree.origins,
    };
  };
  const first = await read();
  const live = liveSettings(first.settings, async () => (await read()).settings, options.refresh ?? {});
  return { file, settings: first.settings, sources: first.sources, live };
}
