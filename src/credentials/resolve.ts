import path from 'node:path';
import type { z } from 'zod';
import { ConfigError } from '../config/configError';
import { describeIssue } from '../config/issues';
import {
  azureKeyVaultSchema,
  cyberArkSchema,
  encryptionCertificateSchema,
  type AzureKeyVaultSettings,
  type CyberArkSettings,
} from '../config/schema';
import { readSettingsFile } from '../config/settingsFile';
import { certificateFilesIn, loadCertificate, type LoadedCertificate } from './certificates';
import { cyberArkSource } from './cyberArk';
import { encryptedFileExists, encryptedFileLocation, readEncryptedFile } from './encryptedFile';
import { environmentLayer } from './environment';
import { keyVaultSource, type KeyVaultSourceOptions } from './keyVault';
import { mergeLayers, treeLayer, type MergedSettings, type SettingsLayer } from './layers';
import { getPath, type JsonObject } from './settingsTree';

/** Test seams: how the stores are reached (their location always comes from the settings). */
export interface StoreOptions {
  readonly keyVault?: Omit<KeyVaultSourceOptions, 'vault'>;
  readonly cyberArk?: { readonly ca?: string };
}

export interface ResolveOptions {
  /** The settings file, or undefined for embedded defaults. */
  readonly file: string | undefined;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly stores?: StoreOptions;
}

export interface ResolvedTree extends MergedSettings {
  /** "the file (with values from ...)": where validation problems are reported from. */
  readonly description: string;
}

/**
 * The settings tree from every source, each overriding the previous where it has a value: the settings file,
 * the encrypted settings file, Azure Key Vault, CyberArk, then `SNOW_CONNECTOR__...` environment variables.
 * The stores' own settings (EncryptionCertificate, AzureKeyVault, CyberArk) come from a first pass over the
 * file, the encrypted file (not for EncryptionCertificate, which decrypts it) and the environment.
 */
export async function resolveSettingsTree(options: ResolveOptions): Promise<ResolvedTree> {
  const { file, env, cwd } = options;
  const fileName = file ?? 'embedded defaults';
  // Files named in the settings are relative to the settings file, as the reference agent takes them.
  const folder = file === undefined ? cwd : path.dirname(file);
  const base = treeLayer(file === undefined ? {} : readSettingsFile(file), `file ${fileName}`);
  const environment = environmentLayer(env);

  const layers: SettingsLayer[] = [base];
  const encrypted = encryptedFileLocation(file, env, cwd);
  if (encryptedFileExists(encrypted)) {
    layers.push(readEncryptedFile(encrypted.file, settingsCertificate(base, environment, folder, fileName)));
  }

  const bootstrap = mergeLayers([...layers, environment]).tree;
  const vault: AzureKeyVaultSettings | undefined = section(
    bootstrap,
    'AzureKeyVault',
    azureKeyVaultSchema,
    fileName,
  );
  const cyberArk: CyberArkSettings | undefined = section(bootstrap, 'CyberArk', cyberArkSchema, fileName);
  if (vault !== undefined) {
    layers.push(await keyVaultSource({ vault: vault.Vault, ...options.stores?.keyVault }).read());
  }
  if (cyberArk !== undefined) {
    layers.push(
      await cyberArkSource({
        settings: cyberArk,
        settingsFile: file,
        cwd,
        ...options.stores?.cyberArk,
      }).read(),
    );
  }
  layers.push(environment);

  const merged = mergeLayers(layers);
  const used = layers
    .filter((layer, index) => index > 0 && layer.values.length > 0)
    .map((layer) => layer.source);
  return {
    ...merged,
    description: used.length === 0 ? fileName : `${fileName} (with values from ${used.join(', ')})`,
  };
}

/**
 * `EncryptionCertificate` from the settings file and the environment only (it decrypts the encrypted file, so it
 * cannot come from it), its files relative to `folder`; undefined when not set.
 */
export function settingsCertificate(
  file: SettingsLayer,
  environment: SettingsLayer,
  folder: string,
  source: string,
): LoadedCertificate | undefined {
  const settings = section(
    mergeLayers([file, environment]).tree,
    'EncryptionCertificate',
    encryptionCertificateSchema,
    source,
  );
  return settings === undefined
    ? undefined
    : loadCertificate(certificateFilesIn(settings, folder), 'EncryptionCertificate');
}

/** A store's own section, validated on its own: its problems name its keys; undefined when absent. */
function section<S extends z.ZodType>(
  tree: JsonObject,
  name: string,
  schema: S,
  source: string,
): z.output<S> | undefined {
  const raw = getPath(tree, [name]);
  if (raw === undefined) return undefined;
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw new ConfigError(
    source,
    parsed.error.issues.flatMap((issue) => describeIssue(issue, [name])),
  );
}
