import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { Keyring } from '../../src/codec/keyring';
import {
  AesGcmPayloadCodec,
  ENCRYPTED_ENCODING,
  KEY_ID_METADATA,
  PayloadDecryptionError,
  PayloadKeyMissingError,
} from '../../src/codec/payloadCodec';

const oldKey = { id: 'k2025', key: randomBytes(32) };
const newKey = { id: 'k2026', key: randomBytes(32) };
const order = { Owner: { InternalDisplayName: 'Jane Doe' }, Changes: { InitialPassword: 'S3cret-Pa55!' } };

function payloadOf(value: unknown): Payload {
  return defaultPayloadConverter.toPayload(value);
}

function text(payload: Payload): string {
  return Buffer.concat([
    ...Object.values(payload.metadata ?? {}).map((value) => Buffer.from(value ?? [])),
    Buffer.from(payload.data ?? []),
  ]).toString('latin1');
}

describe('AES-256-GCM payload codec', () => {
  it('seals with the active key, names it in the metadata, and opens again', async () => {
    const codec = new AesGcmPayloadCodec(new Keyring([oldKey, newKey], 'k2026'), { encrypt: true });
    const [sealed] = await codec.encode([payloadOf(order)]);
    assert.ok(sealed);
    assert.equal(Buffer.from(sealed.metadata?.encoding ?? []).toString(), ENCRYPTED_ENCODING);
    assert.equal(Buffer.from(sealed.metadata?.[KEY_ID_METADATA] ?? []).toString(), 'k2026');
    assert.doesNotMatch(text(sealed), /Jane Doe|S3cret/);
    const [opened] = await codec.decode([sealed]);
    assert.deepEqual(defaultPayloadConverter.fromPayload(opened!), order);
  });

  it('opens payloads sealed with a retired key after the active key changed', async () => {
    const before = new AesGcmPayloadCodec(new Keyring([oldKey], 'k2025'), { encrypt: true });
    const [sealed] = await before.encode([payloadOf(order)]);
    const after = new AesGcmPayloadCodec(new Keyring([oldKey, newKey], 'k2026'), { encrypt: true });
    const [opened] = await after.decode([sealed!]);
    assert.deepEqual(defaultPayloadConverter.fromPayload(opened!), order);
  });

  it('names the missing key, and never the data, when a payload cannot be opened', async () => {
    const writer = new AesGcmPayloadCodec(new Keyring([newKey], 'k2026'), { encrypt: true });
    const [sealed] = await writer.encode([payloadOf(order)]);
    const reader = new AesGcmPayloadCodec(new Keyring([oldKey], undefined), { encrypt: false });
    await assert.rejects(reader.decode([sealed!]), (error: unknown) => {
      assert.ok(error instanceof PayloadKeyMissingError);
      assert.match(error.message, /key "k2026".*"k2025"/);
      return true;
    });
  });

  it('refuses a payload that was altered, or sealed with another key under the same id', async () => {
    const codec = new AesGcmPayloadCodec(new Keyring([newKey], 'k2026'), { encrypt: true });
    const [sealed] = await codec.encode([payloadOf(order)]);
    const data = Buffer.from(sealed!.data!);
    data[20] = data[20]! ^ 1;
    await assert.rejects(codec.decode([{ ...sealed!, data }]), PayloadDecryptionError);
    const impostor = new AesGcmPayloadCodec(new Keyring([{ id: 'k2026', key: randomBytes(32) }], 'k2026'), {
      encrypt: false,
    });
    await assert.rejects(impostor.decode([sealed!]), PayloadDecryptionError);
  });

  it('passes plain payloads through, and seals nothing when not encrypting', async () => {
    const codec = new AesGcmPayloadCodec(new Keyring([newKey], 'k2026'), { encrypt: false });
    const plain = payloadOf(order);
    assert.deepEqual(await codec.encode([plain]), [plain]);
    assert.deepEqual(await codec.decode([plain]), [plain]);
  });

  it('cannot be built to encrypt without an active key', () => {
    assert.throws(() => new AesGcmPayloadCodec(new Keyring([oldKey], undefined), { encrypt: true }));
  });
});
