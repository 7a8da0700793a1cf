import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import type { Keyring } from '../codec/keyring';
import { AesGcmPayloadCodec, isEncryptedPayload, KEY_ID_METADATA } from '../codec/payloadCodec';
import type { History } from './histories';

/**
 * Histories as the server or a download keeps them hold encrypted payloads when the workers encrypt (see
 * src/codec/payloadCodec.ts); audits read them only once opened with the keyring, and replays check first that
 * every key is at hand. The walk is generic: a payload is any object whose `metadata.encoding` says
 * `binary/encrypted`, wherever the event holds it (inputs, results, memos, headers, failure attributes).
 */

/** Deeper than any history event nests payloads; bounds the walk over data read from a file. */
const MAX_DEPTH = 64;

/** An encrypted history that this side cannot open; names the key ids and the setting, never data. */
export class HistoryKeysMissingError extends Error {
  constructor(
    readonly missing: readonly string[],
    readonly known: readonly string[],
    what: string,
  ) {
    super(
      `${what} holds payloads encrypted with ${missing.map((id) => `key "${id}"`).join(', ')}, which ` +
        `${missing.length === 1 ? 'is' : 'are'} not configured here (TicketConnector.Encryption.Keys and PasswordKeys hold ` +
        `${known.length === 0 ? 'no keys' : known.map((id) => `"${id}"`).join(', ')}). Give this command the ` +
        'keys the workers use (settings file, environment or credential store) to read it.',
    );
    this.name = 'HistoryKeysMissingError';
  }
}

function isPayloadLike(value: unknown): value is Payload {
  return typeof value === 'object' && value !== null && 'metadata' in value && 'data' in value;
}

function visit(value: unknown, found: (payload: Payload) => void, depth = 0): void {
  if (depth > MAX_DEPTH || typeof value !== 'object' || value === null) return;
  if (isPayloadLike(value) && isEncryptedPayload(value)) {
    found(value);
    return;
  }
  if (ArrayBuffer.isView(value)) return;
  for (const child of Array.isArray(value) ? value : Object.values(value)) visit(child, found, depth + 1);
}

/** The ids of the keys a history's encrypted payloads name. */
export function encryptionKeyIds(history: History): string[] {
  const ids = new Set<string>();
  visit(history, (payload) => ids.add(Buffer.from(payload.metadata?.[KEY_ID_METADATA] ?? []).toString()));
  return [...ids].sort();
}

/** Throws HistoryKeysMissingError unless every key the history names is in the keyring. */
export function assertKeysAvailable(history: History, keyring: Keyring, what: string): void {
  const missing = encryptionKeyIds(history).filter((id) => keyring.find(id) === undefined);
  if (missing.length > 0) throw new HistoryKeysMissingError(missing, keyring.ids, what);
}

/**
 * Opens every encrypted payload of the history in place, and puts back failure messages that the failure
 * converter moved into encoded attributes (stack traces stay out: audits never copy them). In place, so that
 * protobuf objects (Long numbers, messages) keep their prototypes. A history without encrypted payloads is left
 * as it is.
 */
export async function openHistory(history: History, keyring: Keyring, what: string): Promise<History> {
  if (encryptionKeyIds(history).length === 0) return history;
  assertKeysAvailable(history, keyring, what);
  await openIn(history, new AesGcmPayloadCodec(keyring, { encrypt: false }), 0);
  return history;
}

async function openIn(node: unknown, codec: AesGcmPayloadCodec, depth: number): Promise<void> {
  if (depth > MAX_DEPTH || typeof node !== 'object' || node === null || ArrayBuffer.isView(node)) return;
  const container = node as Record<string, unknown>;
  for (const [key, child] of Object.entries(container)) {
    if (isPayloadLike(child) && isEncryptedPayload(child)) {
      const [plain] = await codec.decode([child]);
      container[key] = plain;
    } else {
      await openIn(child, codec, depth + 1);
    }
  }
  restoreFailureMessage(container);
}

/** A failure whose message the failure converter encoded (`encodeCommonAttributes`) gets it back. */
function restoreFailureMessage(node: Record<string, unknown>): void {
  const encoded = node.encodedAttributes;
  if (!isPayloadLike(encoded) || typeof node.message !== 'string' || isEncryptedPayload(encoded)) return;
  try {
    const attributes = defaultPayloadConverter.fromPayload<{ message?: unknown }>(encoded);
    if (typeof attributes?.message === 'string') node.message = attributes.message;
  } catch {
    // Not the SDK's encoded attributes: leave the failure as it is.
  }
}
