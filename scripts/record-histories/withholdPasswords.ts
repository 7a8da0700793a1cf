import type { Payload } from '@temporalio/common';
import type { History } from '../../src/audit/histories';
import { encryptionKeyIds, openHistory } from '../../src/audit/historyDecoding';
import type { Keyring } from '../../src/codec/keyring';
import { SecretRedactor } from '../../src/http/redaction';

/**
 * The histories of password scenarios are committed without their key and without their password: opened with
 * the keyring of the recording (a key generated for it and never kept), then each dummy password replaced by
 * WITHHELD in the payloads' JSON. Replay does not compare activity inputs or workflow inputs with the commands,
 * so the replaced value does not change what the workflow does on replay; the replay test checks it.
 */

export const WITHHELD = '[password withheld]';

/** Deeper than any history event nests payloads; bounds the walks. */
const MAX_DEPTH = 64;

/** A password form is still in a history about to be written; names the scenario and where, never the password. */
export class PasswordLeftInHistoryError extends Error {
  constructor(name: string, where: string) {
    super(
      `${name}: a dummy password is still in the history (${where}) after it was withheld from the JSON payloads; ` +
        'nothing was written. A payload that is not json/plain, or a field outside the payloads, holds it.',
    );
    this.name = 'PasswordLeftInHistoryError';
  }
}

/** Opens the history's sealed payloads and failures with the keyring, then withholds `passwords`; in place. */
export async function withholdPasswords(
  history: History,
  keyring: Keyring,
  passwords: readonly string[],
  what: string,
): Promise<History> {
  await openHistory(history, keyring, what);
  const left = encryptionKeyIds(history);
  if (left.length > 0) throw new Error(`${what}: payloads sealed with ${left.join(', ')} were left closed`);
  replaceIn(history, passwords, 0);
  return history;
}

function isJsonPayload(value: unknown): value is Payload & { data: Uint8Array } {
  if (typeof value !== 'object' || value === null || !('metadata' in value) || !('data' in value))
    return false;
  const { metadata, data } = value as Payload;
  return (
    data instanceof Uint8Array &&
    Buffer.from(metadata?.encoding ?? new Uint8Array()).toString('utf8') === 'json/plain'
  );
}

function replaceIn(node: unknown, passwords: readonly string[], depth: number): void {
  if (depth > MAX_DEPTH || typeof node !== 'object' || node === null || ArrayBuffer.isView(node)) return;
  if (isJsonPayload(node)) {
    const parsed = JSON.parse(Buffer.from(node.data).toString('utf8')) as unknown;
    const replaced = JSON.stringify(replaceValues(parsed, passwords, 0));
    // Payloads without a password keep their bytes as the SDK wrote them.
    if (replaced !== JSON.stringify(parsed)) node.data = new Uint8Array(Buffer.from(replaced, 'utf8'));
    return;
  }
  for (const child of Array.isArray(node) ? node : Object.values(node))
    replaceIn(child, passwords, depth + 1);
}

/** Every string of a JSON value (keys included) with each password replaced by WITHHELD. */
function replaceValues(value: unknown, passwords: readonly string[], depth: number): unknown {
  if (depth > MAX_DEPTH) throw new Error('a payload nests deeper than any connector payload does');
  if (typeof value === 'string')
    return passwords.reduce((text, secret) => text.split(secret).join(WITHHELD), value);
  if (Array.isArray(value)) return value.map((item) => replaceValues(item, passwords, depth + 1));
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [
      replaceValues(key, passwords, depth + 1) as string,
      replaceValues(item, passwords, depth + 1),
    ]),
  );
}

/** Base64 as protobuf JSON writes bytes (payload data, metadata): decoded and scanned as well. */
const BASE64 = /^[A-Za-z0-9+/_-]{4,}={0,2}$/;

/**
 * Throws PasswordLeftInHistoryError when the file's text holds any of `passwords` in a form a peer or encoder
 * writes (as is, URL- or form-encoded, base64 or base64url, HTML- or JSON-escaped: SecretRedactor's forms), at
 * its top level or inside any base64 string it holds (payload data, at any offset).
 */
export function assertNoPassword(name: string, json: string, passwords: readonly string[]): void {
  const redactor = new SecretRedactor();
  redactor.set('passwords', ...passwords);
  const holds = (text: string) => redactor.redact(text) !== text;
  if (holds(json)) throw new PasswordLeftInHistoryError(name, 'in the file text');
  const events = (JSON.parse(json) as { events: unknown[] }).events;
  events.forEach((event, index) => {
    scanStrings(event, 0, (text) => {
      if (!BASE64.test(text)) return;
      const decoded = Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64');
      if (holds(decoded.toString('utf8')) || holds(decoded.toString('latin1'))) {
        throw new PasswordLeftInHistoryError(name, `in a base64 field of event ${index + 1}`);
      }
    });
  });
}

function scanStrings(node: unknown, depth: number, visit: (text: string) => void): void {
  if (depth > MAX_DEPTH) return;
  if (typeof node === 'string') visit(node);
  else if (typeof node === 'object' && node !== null) {
    for (const child of Object.values(node)) scanStrings(child, depth + 1, visit);
  }
}
