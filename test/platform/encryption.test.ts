import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { defaultPayloadConverter, type PayloadCodec } from '@temporalio/common';
import { EncryptionUnavailableError } from '../../src/codec/dataConverters';
import { AesGcmPayloadCodec, KEY_ID_METADATA, PayloadKeyMissingError } from '../../src/codec/payloadCodec';
import { ConfigError, parseSettings } from '../../src/config/load';
import {
  codecServerKeyring,
  ordersDataConverter,
  passwordsDataConverter,
  payloadKeyring,
} from '../../src/platform/encryption';

const ORDER_KEY = randomBytes(32).toString('base64');
const PASSWORD_KEY = randomBytes(32).toString('base64');

function encryption(value: Record<string, unknown>) {
  return parseSettings({ TicketConnector: { Encryption: value } }, 'test settings').TicketConnector
    .Encryption;
}

function problems(value: Record<string, unknown>): string {
  try {
    encryption(value);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.message;
  }
  assert.fail('the settings were accepted');
}

function codecOf(converter: { payloadCodecs?: PayloadCodec[] }): PayloadCodec {
  const [codec] = converter.payloadCodecs ?? [];
  assert.ok(codec !== undefined);
  return codec;
}

const separate = () =>
  encryption({
    Keys: { k1: ORDER_KEY },
    ActiveKey: 'k1',
    PasswordKeys: { p1: PASSWORD_KEY },
    ActivePasswordKey: 'p1',
  });

describe('TicketConnector.Encryption', () => {
  test('a key that is not 32 bytes of base64 is refused by its setting, without echoing it', () => {
    const short = randomBytes(16).toString('base64');
    const message = problems({ Keys: { k1: short }, ActiveKey: 'k1' });
    assert.match(message, /TicketConnector\.Encryption\.Keys\.k1: must be 32 random bytes in base64/);
    assert.ok(!message.includes(short));
  });

  test('active keys must name a key of their own list; one id names one key; EncryptOrders needs a key', () => {
    assert.match(
      problems({ Keys: { k1: ORDER_KEY }, ActiveKey: 'k2' }),
      /ActiveKey: names a key that is not under Keys/,
    );
    assert.match(
      problems({ Keys: { k1: ORDER_KEY }, ActivePasswordKey: 'k1' }),
      /ActivePasswordKey: names a key that is not under PasswordKeys/,
    );
    assert.match(
      problems({ Keys: { k1: ORDER_KEY }, PasswordKeys: { k1: PASSWORD_KEY } }),
      /PasswordKeys\.k1: this key id is also under Keys/,
    );
    assert.match(
      problems({ EncryptOrders: true }),
      /ActiveKey: is missing: EncryptOrders needs an active key/,
    );
  });

  test('orders are sealed only with EncryptOrders; password resets always, with the password key', async () => {
    const settings = separate();
    const plain = defaultPayloadConverter.toPayload({ owner: 'Jane Doe' });
    assert.deepEqual(await codecOf(ordersDataConverter(settings)).encode([plain]), [plain]);
    const [order] = await codecOf(ordersDataConverter({ ...settings, EncryptOrders: true })).encode([plain]);
    assert.equal(Buffer.from(order?.metadata?.[KEY_ID_METADATA] ?? []).toString(), 'k1');
    const [password] = await codecOf(passwordsDataConverter(settings)).encode([plain]);
    assert.equal(Buffer.from(password?.metadata?.[KEY_ID_METADATA] ?? []).toString(), 'p1');
    // Without PasswordKeys, password resets fall back to the active payload key.
    const shared = encryption({ Keys: { k1: ORDER_KEY }, ActiveKey: 'k1' });
    const [fallback] = await codecOf(passwordsDataConverter(shared)).encode([plain]);
    assert.equal(Buffer.from(fallback?.metadata?.[KEY_ID_METADATA] ?? []).toString(), 'k1');
  });

  test('the codec server opens orders but never a password reset; workers and commands open both', async () => {
    const settings = separate();
    const value = defaultPayloadConverter.toPayload({ password: 'Secret-Pa55' });
    const [sealed] = await codecOf(passwordsDataConverter(settings)).encode([value]);
    const server = new AesGcmPayloadCodec(codecServerKeyring(settings), { encrypt: false });
    await assert.rejects(server.decode([sealed!]), PayloadKeyMissingError);
    const reader = new AesGcmPayloadCodec(payloadKeyring(settings), { encrypt: false });
    const [opened] = await reader.decode([sealed!]);
    assert.deepEqual(defaultPayloadConverter.fromPayload(opened!), { password: 'Secret-Pa55' });
  });

  test('without any active key there are no password resets', () => {
    assert.throws(() => passwordsDataConverter(encryption({})), EncryptionUnavailableError);
  });
});
