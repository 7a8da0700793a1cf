import {
  constants,
  createCipheriv,
  createDecipheriv,
  createHash,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  type KeyObject,
} from 'node:crypto';

/**
 * One encrypted setting value: `enc:v1:<base64>`. The binary holds, in order: the format version (1 byte), the
 * certificate's key id (8 bytes, see LoadedCertificate.keyId), a tag of the setting path (4 bytes), the length
 * of the wrapped key (2 bytes, big-endian), the random AES-256 key wrapped with RSA-OAEP (SHA-256), a 12-byte
 * IV, the 16-byte GCM tag and the AES-256-GCM ciphertext. The setting path (lower case, `.`-joined) is the
 * GCM additional data, so a value copied to another setting does not decrypt; the key id and the path tag
 * only make the error say why (another certificate, another setting) instead of just "corrupted".
 */
export const ENCRYPTED_PREFIX = 'enc:v1:';

const VERSION = 1;
const KEY_ID_BYTES = 8;
const PATH_TAG_BYTES = 4;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + KEY_ID_BYTES + PATH_TAG_BYTES + 2;

export type DecryptionProblem = 'wrong-certificate' | 'moved' | 'corrupted' | 'no-private-key';

/** Why a value does not decrypt; the message says what to do and never holds the value. */
export class DecryptionError extends Error {
  constructor(
    readonly problem: DecryptionProblem,
    message: string,
  ) {
    super(message);
    this.name = 'DecryptionError';
  }
}

export interface EncryptionKey {
  readonly publicKey: KeyObject;
  readonly keyId: Buffer;
}

export interface DecryptionKey extends EncryptionKey {
  readonly privateKey: KeyObject | undefined;
}

export function isEncryptedValue(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(ENCRYPTED_PREFIX);
}

/** The additional data a value is bound to: its setting path, case-insensitive as settings are. */
function boundTo(settingPath: string): Buffer {
  return Buffer.from(`snow-ticket:v1:${settingPath.toLowerCase()}`, 'utf8');
}

function pathTag(settingPath: string): Buffer {
  return createHash('sha256').update(boundTo(settingPath)).digest().subarray(0, PATH_TAG_BYTES);
}

export function encryptValue(plain: string, settingPath: string, key: EncryptionKey): string {
  const dataKey = randomBytes(32);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', dataKey, iv);
  cipher.setAAD(boundTo(settingPath));
  const ciphertext = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  const wrapped = publicEncrypt(
    { key: key.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
    dataKey,
  );
  const length = Buffer.alloc(2);
  length.writeUInt16BE(wrapped.length);
  const binary = Buffer.concat([
    Buffer.from([VERSION]),
    key.keyId,
    pathTag(settingPath),
    length,
    wrapped,
    iv,
    cipher.getAuthTag(),
    ciphertext,
  ]);
  return ENCRYPTED_PREFIX + binary.toString('base64');
}

/**
 * The plain value of `value`, encrypted for `settingPath` with the certificate of `key`. `where` (the setting
 * and its file) starts every error message.
 */
export function decryptValue(value: string, settingPath: string, key: DecryptionKey, where: string): string {
  const corrupted = () =>
    new DecryptionError(
      'corrupted',
      `${where}: the encrypted value is corrupted (it does not decrypt); encrypt it again with snow-ticket protect`,
    );
  const text = value.slice(ENCRYPTED_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) throw corrupted();
  const binary = Buffer.from(text, 'base64');
  if (binary.length < HEADER_BYTES + IV_BYTES + TAG_BYTES || binary[0] !== VERSION) throw corrupted();
  const keyId = binary.subarray(1, 1 + KEY_ID_BYTES);
  if (!keyId.equals(key.keyId)) {
    throw new DecryptionError(
      'wrong-certificate',
      `${where}: the value was encrypted for another certificate (key id ${keyId.toString('hex')}), ` +
        `not for EncryptionCertificate (key id ${key.keyId.toString('hex')})`,
    );
  }
  if (!binary.subarray(1 + KEY_ID_BYTES, 1 + KEY_ID_BYTES + PATH_TAG_BYTES).equals(pathTag(settingPath))) {
    throw new DecryptionError(
      'moved',
      `${where}: the value was encrypted for another setting; encrypt it for this one ` +
        `(snow-ticket protect --setting ${settingPath})`,
    );
  }
  if (key.privateKey === undefined) {
    throw new DecryptionError(
      'no-private-key',
      `${where}: EncryptionCertificate has no private key (a PFX, or a PEM file with the key or KeyFile, is needed)`,
    );
  }
  const wrappedLength = binary.readUInt16BE(1 + KEY_ID_BYTES + PATH_TAG_BYTES);
  const ivStart = HEADER_BYTES + wrappedLength;
  if (binary.length < ivStart + IV_BYTES + TAG_BYTES) throw corrupted();
  try {
    const dataKey = privateDecrypt(
      { key: key.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      binary.subarray(HEADER_BYTES, ivStart),
    );
    const decipher = createDecipheriv('aes-256-gcm', dataKey, binary.subarray(ivStart, ivStart + IV_BYTES));
    decipher.setAAD(boundTo(settingPath));
    decipher.setAuthTag(binary.subarray(ivStart + IV_BYTES, ivStart + IV_BYTES + TAG_BYTES));
    const plain = Buffer.concat([
      decipher.update(binary.subarray(ivStart + IV_BYTES + TAG_BYTES)),
      decipher.final(),
    ]);
    return plain.toString('utf8');
  } catch {
    throw corrupted();
  }
}
