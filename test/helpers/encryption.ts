import { parseSettings } from '../../src/config/load';
import type { EncryptionSettings } from '../../src/config/schema';

/** `TicketConnector.Encryption` as the worker reads it (defaults applied), from the raw section of a test. */
export function encryptionSettings(raw: Record<string, unknown>): EncryptionSettings {
  return parseSettings({ TicketConnector: { Encryption: raw } }, 'test encryption settings').TicketConnector
    .Encryption;
}
