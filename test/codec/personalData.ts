import assert from 'node:assert/strict';

/**
 * Looks for a value in every form a history or a page could carry it: as is, JSON-escaped, URL-encoded, and in
 * base64 or base64url at each of the three byte alignments (a payload's bytes appear in proto JSON as base64,
 * where a value's encoding depends on where it starts).
 */
export function formsOf(value: string): string[] {
  const forms = new Set([value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value)]);
  const bytes = Buffer.from(value, 'utf8');
  for (let offset = 0; offset < 3; offset += 1) {
    const encoded = Buffer.concat([Buffer.alloc(offset, 0x20), bytes]).toString('base64');
    // Only the characters that depend on the value's bytes alone: whole 3-byte groups after the prefix.
    const start = offset === 0 ? 0 : 4;
    const end = Math.floor((offset + bytes.length) / 3) * 4;
    const piece = encoded.slice(start, end);
    if (piece.length >= 8) {
      forms.add(piece);
      forms.add(piece.replace(/\+/g, '-').replace(/\//g, '_'));
    }
  }
  return [...forms];
}

/** Asserts that none of `values` appears in `text` in any of its forms; the message names the value, not the text. */
export function expectAbsent(text: string, values: readonly string[], where: string): void {
  for (const value of values) {
    for (const form of formsOf(value)) {
      assert.ok(!text.includes(form), `${where} holds "${value}" (as ${JSON.stringify(form)})`);
    }
  }
}
