import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { SettingsFile } from '../config/schema';

/**
 * `npm start` encrypts provisioning orders (EncryptOrders) like a production deployment should. When the
 * settings give no payload key, it generates one, and a codec server token, once into the data folder with
 * owner-only permissions (like the simulator's credentials), and never prints them. The CLI finds them there
 * too (through the same DataDirectory), so that `snow-ticket provision`, `status`, `audit` and `replay` work
 * against the local stack without copying a key anywhere.
 */
export const LOCAL_KEY_ID_PREFIX = 'local-';

const stored = z.object({
  keyId: z.string().regex(/^[A-Za-z][A-Za-z0-9-]{0,62}$/),
  key: z.string().refine((value) => Buffer.from(value, 'base64').length === 32),
  codecToken: z.string().min(16),
  // Added after the first files were written: a file without them gets them on the next start.
  passwordKeyId: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9-]{0,62}$/)
    .optional(),
  passwordKey: z
    .string()
    .refine((value) => Buffer.from(value, 'base64').length === 32)
    .optional(),
  /** Signs the simulator's change notifications to the push receiver (TicketConnector.Push.Secret). */
  pushSecret: z.string().min(32).optional(),
});
export type LocalEncryption = z.infer<typeof stored>;

export function localEncryptionFile(dataDir: string): string {
  return path.join(dataDir, 'payload-encryption.json');
}

/** The key and token kept in `dataDir`, or undefined when there are none or they are unreadable. */
export function readLocalEncryption(dataDir: string): LocalEncryption | undefined {
  try {
    const parsed = stored.safeParse(JSON.parse(readFileSync(localEncryptionFile(dataDir), 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The kept keys and token, generated (owner-only) on first use. The password key is apart from the payload key so
 * that the codec server, which holds only the latter, never opens a password reset.
 */
export function ensureLocalEncryption(dataDir: string, now: Date = new Date()): LocalEncryption {
  const existing = readLocalEncryption(dataDir);
  if (existing?.passwordKey !== undefined && existing.pushSecret !== undefined) return existing;
  const day = now.toISOString().slice(0, 10).replace(/-/g, '');
  const created: LocalEncryption = {
    keyId: existing?.keyId ?? `${LOCAL_KEY_ID_PREFIX}${day}`,
    key: existing?.key ?? randomBytes(32).toString('base64'),
    codecToken: existing?.codecToken ?? randomBytes(32).toString('base64url'),
    passwordKeyId: existing?.passwordKeyId ?? `${LOCAL_KEY_ID_PREFIX}passwords-${day}`,
    passwordKey: existing?.passwordKey ?? randomBytes(32).toString('base64'),
    pushSecret: existing?.pushSecret ?? randomBytes(32).toString('base64url'),
  };
  writeFileSync(localEncryptionFile(dataDir), JSON.stringify(created, null, 2), { mode: 0o600 });
  return created;
}

/**
 * The settings with the local key added and active, and EncryptOrders on, when the settings give no active key;
 * settings that configure their own keys are left as they are (EncryptOrders is turned on by the caller).
 */
export function withLocalKey(settings: SettingsFile, local: LocalEncryption): SettingsFile {
  const encryption = settings.TicketConnector.Encryption;
  if (encryption.ActiveKey !== undefined) return settings;
  return {
    ...settings,
    TicketConnector: {
      ...settings.TicketConnector,
      Encryption: {
        ...encryption,
        Keys: { ...encryption.Keys, [local.keyId]: local.key },
        ActiveKey: local.keyId,
        ...(local.passwordKeyId !== undefined &&
          local.passwordKey !== undefined &&
          encryption.ActivePasswordKey === undefined && {
            PasswordKeys: { ...encryption.PasswordKeys, [local.passwordKeyId]: local.passwordKey },
            ActivePasswordKey: local.passwordKeyId,
          }),
        EncryptOrders: true,
      },
    },
  };
}

/**
 * For CLI commands: settings without payload keys use the local stack's key when its data folder holds one, so
 * they read and write what `npm start`'s worker does. Settings with keys of their own are left as they are.
 */
export function withLocalStackKey(settings: SettingsFile): SettingsFile {
  if (Object.keys(settings.TicketConnector.Encryption.Keys).length > 0) return settings;
  const local = readLocalEncryption(path.resolve(settings.TicketConnector.DataDirectory));
  return local === undefined ? settings : withLocalKey(settings, local);
}
