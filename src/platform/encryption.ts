import type { DataConverter } from '@temporalio/common';
import { connectorDataConverter, EncryptionUnavailableError } from '../codec/dataConverters';
import { Keyring } from '../codec/keyring';
import type { EncryptionSettings } from '../config/schema';

function keysOf(keys: Readonly<Record<string, string>>) {
  return Object.entries(keys).map(([id, value]) => ({ id, key: Buffer.from(value.trim(), 'base64') }));
}

/** The key that seals password resets: ActivePasswordKey, else ActiveKey. */
function activePasswordKey(encryption: EncryptionSettings): string | undefined {
  return encryption.ActivePasswordKey ?? encryption.ActiveKey;
}

/**
 * Every payload key of `TicketConnector.Encryption` (validated by the settings schema: 32 bytes each, one id per
 * key), sealing with ActiveKey: for workers and every command that reads histories.
 */
export function payloadKeyring(encryption: EncryptionSettings): Keyring {
  return new Keyring([...keysOf(encryption.Keys), ...keysOf(encryption.PasswordKeys)], encryption.ActiveKey);
}

/** Every payload key, sealing with the password key: for password resets and orders that carry a password. */
export function passwordKeyring(encryption: EncryptionSettings): Keyring {
  return new Keyring(
    [...keysOf(encryption.Keys), ...keysOf(encryption.PasswordKeys)],
    activePasswordKey(encryption),
  );
}

/** The codec server's keys: never the PasswordKeys, so that the Web UI cannot open a password reset. */
export function codecServerKeyring(encryption: EncryptionSettings): Keyring {
  return new Keyring(keysOf(encryption.Keys), encryption.ActiveKey);
}

/**
 * For provisioning orders, exports and every command that reads histories: seals what it writes only with
 * EncryptOrders, and opens any payload sealed with a configured key.
 */
export function ordersDataConverter(encryption: EncryptionSettings): DataConverter {
  return connectorDataConverter(payloadKeyring(encryption), { encrypt: encryption.EncryptOrders });
}

/** For password resets: always seals; throws EncryptionUnavailableError when no key is active. */
export function passwordsDataConverter(encryption: EncryptionSettings): DataConverter {
  const keyring = passwordKeyring(encryption);
  if (keyring.active() === undefined) throw new EncryptionUnavailableError('A password reset');
  return connectorDataConverter(keyring, { encrypt: true });
}

/** Whether this deployment can run password resets (a key is active to seal them). */
export function canSealPasswords(encryption: EncryptionSettings): boolean {
  return activePasswordKey(encryption) !== undefined;
}
