import type { DataConverter } from '@temporalio/common';
import { connectorDataConverter, EncryptionUnavailableError } from '../codec/dataConverters';
import { Keyring } from '../codec/keyring';
import type { EncryptionSettings } from '../config/schema';

/** The payload keys of `TicketConnector.Encryption` (validated by the settings schema: 32 bytes each). */
export function payloadKeyring(encryption: EncryptionSettings): Keyring {
  const keys = Object.entries(encryption.Keys).map(([id, value]) => ({
    id,
    key: Buffer.from(value.trim(), 'base64'),
  }));
  return new Keyring(keys, encryption.ActiveKey);
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
  const keyring = payloadKeyring(encryption);
  if (keyring.active() === undefined) throw new EncryptionUnavailableError('A password reset');
  return connectorDataConverter(keyring, { encrypt: true });
}

/** Whether this deployment can run password resets (a key is active). */
export function canEncrypt(encryption: EncryptionSettings): boolean {
  return encryption.ActiveKey !== undefined;
}
