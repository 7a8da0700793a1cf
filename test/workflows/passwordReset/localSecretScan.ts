import assert from 'node:assert/strict';
import type { History } from '@temporalio/common/lib/proto-utils';
import { historyJSON } from '../../../src/audit/histories';

/**
 * A local stand-in for test/helpers/secretScan.ts (being written on another branch): same name and signature,
 * so that the import can be swapped. Fails when any written form of a secret is in `text`: as is, base64 (with
 * and without padding), base64url, URL-encoded (both ways), JSON-escaped.
 */
export function expectNoSecret(text: string, secrets: readonly string[], where = 'the text'): void {
  for (const secret of secrets) {
    for (const [form, written] of writtenForms(secret)) {
      assert.ok(!text.includes(written), `${where} holds the secret (${form})`);
    }
  }
}

function writtenForms(secret: string): [string, string][] {
  const base64 = Buffer.from(secret, 'utf8').toString('base64');
  return [
    ['clear', secret],
    ['base64', base64],
    ['base64 without padding', base64.replace(/=+$/, '')],
    ['base64url', Buffer.from(secret, 'utf8').toString('base64url')],
    ['URL-encoded', encodeURIComponent(secret)],
    ['form-encoded', new URLSearchParams({ s: secret }).toString().slice(2)],
    ['JSON-escaped', JSON.stringify(secret).slice(1, -1)],
  ];
}

/**
 * A raw history (fetched by a client without the codec) as proto JSON, plus every base64 value in it decoded:
 * a payload left in clear shows its JSON, and so the password, in the decoded text.
 */
export function rawHistoryText(history: History): string {
  const json = historyJSON(history);
  const decoded: string[] = [];
  const walk = (value: unknown, depth: number): void => {
    if (depth > 64) return;
    if (typeof value === 'string') {
      if (/^[A-Za-z0-9+/]+={0,2}$/.test(value) && value.length >= 8) {
        decoded.push(Buffer.from(value, 'base64').toString('utf8'));
      }
      return;
    }
    if (typeof value === 'object' && value !== null) {
      for (const child of Object.values(value)) walk(child, depth + 1);
    }
  };
  walk(JSON.parse(json), 0);
  return [json, ...decoded].join('\n');
}

/** Everything written to stderr (the worker's log lines: the SDK's DefaultLogger writes there) until `stop`. */
export function captureStderr(): { text: () => string; stop: () => void } {
  const chunks: string[] = [];
  const original = process.stderr.write.bind(process.stderr);
  const forward = original as (...args: unknown[]) => boolean;
  process.stderr.write = (chunk: string | Uint8Array, ...rest: unknown[]) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return forward(chunk, ...rest);
  };
  return {
    text: () => chunks.join(''),
    stop: () => {
      process.stderr.write = original;
    },
  };
}
