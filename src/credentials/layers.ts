import { leaves, pathText, setPath, type JsonObject } from './settingsTree';

/** One value a source gives, with where it came from, as `config check` prints it. */
export interface SettingValue {
  readonly path: readonly string[];
  readonly value: unknown;
  /** "file /etc/app/appsettings.agent.json", "Azure Key Vault https://v.vault.azure.net (secret A--B)", ... */
  readonly origin: string;
}

/** What one source holds: a partial settings tree, as values by path. */
export interface SettingsLayer {
  /** "Azure Key Vault https://v.vault.azure.net": names the store in reports. */
  readonly source: string;
  readonly values: readonly SettingValue[];
  /** Whether every value is a secret (a store's): such values are masked in validation reports. */
  readonly secret: boolean;
}

/** A store of settings; read at start, and again after an authentication failure. */
export interface SettingsSource {
  readonly name: string;
  read(): Promise<SettingsLayer>;
}

/** The file's own tree as a layer: every leaf keeps its place. */
export function treeLayer(tree: JsonObject, source: string): SettingsLayer {
  return {
    source,
    secret: false,
    values: leaves(tree).map(({ path, value }) => ({ path, value, origin: source })),
  };
}

export interface MergedSettings {
  readonly tree: JsonObject;
  /** Dotted path as spelled in the tree -> origin of its value, for every leaf. */
  readonly origins: Map<string, string>;
  /** Values that came from secret stores, masked in any report. */
  readonly storeValues: string[];
}

/**
 * Layers applied in order, each overriding the previous where it has a value; names match case-insensitively,
 * keeping the first spelling, as .NET configuration does.
 */
export function mergeLayers(layers: readonly SettingsLayer[]): MergedSettings {
  const tree: JsonObject = {};
  const origins = new Map<string, string>();
  const storeValues: string[] = [];
  for (const layer of layers) {
    for (const { path, value, origin } of layer.values) {
      const spelled = pathText(setPath(tree, path, structuredClone(value)));
      // A value that replaces a section also replaces the origins of the section's leaves.
      for (const known of [...origins.keys()]) if (known.startsWith(`${spelled}.`)) origins.delete(known);
      origins.set(spelled, origin);
      if (layer.secret && typeof value === 'string') storeValues.push(value);
    }
  }
  return { tree, origins, storeValues };
}
