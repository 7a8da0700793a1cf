import { existsSync } from 'node:fs';
import path from 'node:path';
import { readSettingsFile } from '../config/settingsFile';
import type { LoadedCertificate } from './certificates';
import { decryptValue, DecryptionError, isEncryptedValue } from './envelope';
import { CredentialStoreError } from './errors';
import type { SettingsLayer } from './layers';
import { leaves, pathText } from './settingsTree';

export const ENCRYPTED_CONFIG_ENV = 'SNOW_CONNECTOR_ENCRYPTED_CONFIG';
export const DEFAULT_ENCRYPTED_FILE = 'appsettings.encrypted.agent.json';

/**
 * The encrypted settings file: `$SNOW_CONNECTOR_ENCRYPTED_CONFIG`, else `appsettings.encrypted.agent.json` beside
 * the settings file (or in the working folder without one). `required` when named explicitly: then it must exist.
 */
export function encryptedFileLocation(
  settingsFile: string | undefined,
  env: NodeJS.ProcessEnv,
  cwd: string,
): { file: string; required: boolean } {
  const explicit = env[ENCRYPTED_CONFIG_ENV];
  if (explicit) return { file: path.resolve(cwd, explicit), required: true };
  const folder = settingsFile === undefined ? cwd : path.dirname(settingsFile);
  return { file: path.join(folder, DEFAULT_ENCRYPTED_FILE), required: false };
}

export function encryptedFileExists(location: { file: string; required: boolean }): boolean {
  return location.required || existsSync(location.file);
}

/**
 * Reads and decrypts every value of the encrypted settings file. Each leaf must be an encrypted value (written by
 * `snow-ticket protect`); every problem is reported at once, naming the setting and the file.
 */
export function readEncryptedFile(file: string, certificate: LoadedCertificate | undefined): SettingsLayer {
  const source = `encrypted settings file ${file}`;
  const tree = readSettingsFile(file);
  const problems: string[] = [];
  const values = [];
  for (const { path: keys, value } of leaves(tree)) {
    const setting = pathText(keys);
    if (keys[0]?.toLowerCase() === 'encryptioncertificate') {
      problems.push(
        `${setting}: EncryptionCertificate cannot come from the file it decrypts; set it in the settings file`,
      );
      continue;
    }
    if (!isEncryptedValue(value)) {
      problems.push(`${setting}: is not an encrypted value (write it with snow-ticket protect)`);
      continue;
    }
    if (certificate === undefined) {
      problems.push(`${setting}: cannot be decrypted: EncryptionCertificate is not configured`);
      continue;
    }
    try {
      values.push({ path: keys, value: decryptValue(value, setting, certificate, setting), origin: source });
    } catch (error) {
      if (!(error instanceof DecryptionError)) throw error;
      problems.push(error.message);
    }
  }
  if (problems.length > 0) throw new CredentialStoreError(source, problems);
  return { source, secret: true, values };
}
