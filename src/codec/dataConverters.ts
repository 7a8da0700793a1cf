import type { DataConverter } from '@temporalio/common';
import { AesGcmPayloadCodec } from './payloadCodec';
import type { Keyring } from './keyring';

/**
 * How one worker or client treats payloads. Every side opens encrypted payloads it has the key for; only an
 * encrypting side seals what it writes, failure messages and stack traces included (the failure converter moves
 * them into an encoded payload, since Temporal stores them in clear otherwise).
 */
export function connectorDataConverter(keyring: Keyring, options: { encrypt: boolean }): DataConverter {
  return {
    payloadCodecs: [new AesGcmPayloadCodec(keyring, options)],
    ...(options.encrypt ? { failureConverterPath: require.resolve('./encodedFailures') } : {}),
  };
}

/** Thrown where a password would otherwise travel in clear: no key is active, so nothing can be sealed. */
export class EncryptionUnavailableError extends Error {
  constructor(what: string) {
    super(
      `${what} needs payload encryption, and no key is active: set TicketConnector.Encryption.Keys and ` +
        `TicketConnector.Encryption.ActiveKey (see README, "Encrypted payloads")`,
    );
    this.name = 'EncryptionUnavailableError';
  }
}
