import { isSecretSetting } from '../config/schema';
import { encryptValue, isEncryptedValue, type EncryptionKey } from './envelope';
import { isObject, leaves, pathText, setPath, type JsonObject } from './settingsTree';

export interface ProtectedFile {
  /** The encrypted settings tree, ready for `appsettings.encrypted.agent.json`. */
  readonly tree: JsonObject;
  readonly encrypted: readonly string[];
  /** Settings left out, with why (lists, empty values, the certificate's own section, non-secrets). */
  readonly leftOut: readonly { setting: string; reason: string }[];
}

/** A dotted setting path as `protect --setting` takes it: non-empty parts. */
export function parseSettingPath(text: string): string[] | undefined {
  const parts = text.split('.');
  return parts.length > 0 && parts.every((part) => part.trim() !== '') ? parts : undefined;
}

/**
 * Encrypts a settings tree value by value, each bound to its path. Every string, number and boolean is
 * encrypted (as a string, as the reference writes values), or with `secretsOnly` only the secrets (Password,
 * ClientSecret, ApiKey, BearerToken, Token, Secret, payload keys). Left out: lists, empty values, and EncryptionCertificate (it decrypts the
 * file, so it cannot be in it). Values already encrypted are kept.
 */
export function protectTree(
  tree: JsonObject,
  key: EncryptionKey,
  options: { secretsOnly: boolean },
): ProtectedFile {
  const out: JsonObject = {};
  const encrypted: string[] = [];
  const leftOut: { setting: string; reason: string }[] = [];
  for (const { path, value } of leaves(tree)) {
    const setting = pathText(path);
    if (path[0]?.toLowerCase() === 'encryptioncertificate') {
      leftOut.push({
        setting,
        reason: 'EncryptionCertificate stays in the settings file (it decrypts the other one)',
      });
    } else if (options.secretsOnly && !isSecretSetting(path)) {
      leftOut.push({ setting, reason: 'not a secret (--secrets-only)' });
    } else if (isEncryptedValue(value)) {
      setPath(out, path, value);
      encrypted.push(setting);
    } else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      const text = String(value);
      if (text === '') {
        leftOut.push({ setting, reason: 'empty (unset)' });
        continue;
      }
      setPath(out, path, encryptValue(text, setting, key));
      encrypted.push(setting);
    } else {
      leftOut.push({
        setting,
        reason: Array.isArray(value) ? 'a list (keep it in the settings file)' : 'no value',
      });
    }
  }
  return { tree: isObject(out) ? out : {}, encrypted, leftOut };
}
