import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { keyedDigest, type Keyring } from './keyring';

/**
 * The connector's payload format, documented in the README for clients that do not run our code (Identity
 * Manager's .NET client): metadata `encoding` = `binary/encrypted` and `encryption-key-id` = the key's id;
 * data = 12-byte IV, then the AES-256-GCM ciphertext of the original Payload message (protobuf), then the
 * 16-byte tag. The same layout as Temporal's encryption samples, so their codecs interoperate.
 */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** An encrypted payload this side cannot open; names the key and the setting that would hold it, never data. */
export class PayloadKeyMissingError extends Error {
  constructor(
    readonly keyId: string,
    readonly known: readonly string[],
  ) {
    super(
      `A payload is encrypted with key "${keyId}", which is not configured here ` +
        `(TicketConnector.Encryption.Keys and PasswordKeys hold ${known.length === 0 ? 'no keys' : known.map((id) => `"${id}"`).join(', ')}). ` +
        `Give this command or worker the same keys as the workers that wrote it.`,
    );
    this.name = 'PayloadKeyMissingError';
  }
}

/** An encrypted payload that does not open with the key its metadata names: tampered, truncated or mislabelled. */
export class PayloadDecryptionError extends Error {
  constructor(readonly keyId: string) {
    super(
      `A payload encrypted with key "${keyId}" cannot be decrypted: it was altered, or the key configured ` +
        `under that id is not the one that sealed it`,
    );
    this.name = 'PayloadDecryptionError';
  }
}

export interface PayloadCodecOptions {
  /** Seal new payloads with the keyring's active key; false only opens encrypted payloads and passes the rest. */
  readonly encrypt: boolean;
}

export class AesGcmPayloadCodec implements PayloadCodec {
  constructor(
    private readonly keyring: Keyring,
    readonly options: PayloadCodecOptions,
  ) {
    if (options.encrypt && keyring.active() === undefined) {
      throw new Error('an encrypting payload codec needs an active key');
    }
  }

  /** {@link keyedDigest} under the active key; undefined when none is active. */
  digest(purpose: string, text: string): string | undefined {
    const active = this.keyring.active();
    return active === undefined ? undefined : keyedDigest(active.key, purpose, text);
  }

  encode(payloads: Payload[]): Promise<Payload[]> {
    const active = this.options.encrypt ? this.keyring.active() : undefined;
    if (active === undefined) return Promise.resolve(payloads);
    return Promise.resolve(
      payloads.map((payload) => ({
        metadata: {
          [METADATA_ENCODING_KEY]: Buffer.from(ENCRYPTED_ENCODING),
          [KEY_ID_METADATA]: Buffer.from(active.id),
        },
        data: seal(temporal.api.common.v1.Payload.encode(payload).finish(), active.key),
      })),
    );
  }

  // async: a payload that cannot be opened rejects the promise rather than throwing at the call.
  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.open(payload));
  }

  private open(payload: Payload): Payload {
    if (!isEncryptedPayload(payload)) return payload;
    const keyId = Buffer.from(payload.metadata?.[KEY_ID_METADATA] ?? []).toString();
    const key = this.keyring.find(keyId);
    if (key === undefined) throw new PayloadKeyMissingError(keyId, this.keyring.ids);
    let plain: Buffer;
    try {
      plain = unseal(Buffer.from(payload.data ?? []), key);
    } catch {
      throw new PayloadDecryptionError(keyId);
    }
    return temporal.api.common.v1.Payload.decode(plain);
  }
}

export function isEncryptedPayload(payload: Payload): boolean {
  const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
  return (
    encoding !== undefined && encoding !== null && Buffer.from(encoding).toString() === ENCRYPTED_ENCODING
  );
}

function seal(plain: Uint8Array, key: Buffer): Uint8Array {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

function unseal(sealed: Buffer, key: Buffer): Buffer {
  if (sealed.length < IV_BYTES + TAG_BYTES) throw new Error('too short');
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  return Buffer.concat([
    decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)),
    decipher.final(),
  ]);
}
