import assert from 'node:assert/strict';

/**
 * The forms in which a secret could leak into text: as written, base64 (with and without padding, and inside a
 * longer base64 text at each of the three byte alignments: a payload's bytes appear in proto JSON as base64, where
 * a value's encoding depends on where it starts), base64url, URL-encoded (component and form style), and
 * JSON-escaped. Kept independent of src/http/redaction.ts on purpose: a test must not share the code it checks.
 */
export function secretForms(secret: string): { form: string; text: string }[] {
  const base64 = Buffer.from(secret, 'utf8').toString('base64');
  const forms = [
    { form: 'exact', text: secret },
    { form: 'base64', text: base64 },
    { form: 'base64 without padding', text: base64.replace(/=+$/, '') },
    { form: 'base64url', text: Buffer.from(secret, 'utf8').toString('base64url') },
    { form: 'URL-encoded', text: encodeURIComponent(secret) },
    { form: 'form-encoded', text: new URLSearchParams({ s: secret }).toString().slice('s='.length) },
    { form: 'JSON-escaped', text: JSON.stringify(secret).slice(1, -1) },
    ...embeddedBase64(secret),
  ];
  return forms.filter(({ text }) => text !== '');
}

/** The base64 characters that depend on the secret's bytes alone, when it starts 0, 1 or 2 bytes into a group. */
function embeddedBase64(secret: string): { form: string; text: string }[] {
  const bytes = Buffer.from(secret, 'utf8');
  const forms: { form: string; text: string }[] = [];
  for (let offset = 0; offset < 3; offset += 1) {
    const encoded = Buffer.concat([Buffer.alloc(offset, 0x20), bytes]).toString('base64');
    const piece = encoded.slice(offset === 0 ? 0 : 4, Math.floor((offset + bytes.length) / 3) * 4);
    if (piece.length < 8) continue;
    forms.push({ form: `base64 at byte ${offset} of a group`, text: piece });
    forms.push({
      form: `base64url at byte ${offset} of a group`,
      text: piece.replace(/\+/g, '-').replace(/\//g, '_'),
    });
  }
  return forms;
}

/**
 * Fails when `text` holds any of `secrets` in any of its forms. The failure names the secret by its position and
 * the form, and shows the text around it, so that a failing run shows where the leak is.
 */
export function expectNoSecret(text: string, secrets: readonly string[], what = 'output'): void {
  secrets.forEach((secret, index) => {
    assert.ok(secret.length >= 6, `secret #${index} is too short to scan for reliably`);
    for (const { form, text: written } of secretForms(secret)) {
      const at = text.indexOf(written);
      assert.equal(
        at,
        -1,
        `${what} holds secret #${index} (${form}) at offset ${at}: ...${text.slice(Math.max(0, at - 40), at)}[here]...`,
      );
    }
  });
}
