import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SecretRedactor } from '../../src/http/redaction';

// Characters that every encoding writes differently: space, quotes, ampersand, angle brackets, slash, plus.
const SECRET = `Pa55 w0rd&<"'>/+é`;

function redactorFor(...secrets: string[]): SecretRedactor {
  const redactor = new SecretRedactor();
  redactor.set('secrets', ...secrets);
  return redactor;
}

const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

describe('SecretRedactor', () => {
  const forms: Record<string, string> = {
    exact: SECRET,
    'URL-encoded (encodeURIComponent)': encodeURIComponent(SECRET),
    'form-encoded (URLSearchParams)': new URLSearchParams({ p: SECRET }).toString().slice(2),
    base64: base64(SECRET),
    'base64 without padding': base64(SECRET).replace(/=+$/, ''),
    base64url: Buffer.from(SECRET, 'utf8').toString('base64url'),
    'HTML-escaped (&quot; &#39;)': SECRET.replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&#39;'),
    'HTML-escaped (&#34; &#x27;)': SECRET.replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&#34;')
      .replace(/'/g, '&#x27;'),
    'JSON-escaped': JSON.stringify(SECRET).slice(1, -1),
  };
  for (const [name, form] of Object.entries(forms)) {
    test(`masks the ${name} form of a secret`, () => {
      const clean = redactorFor(SECRET).redact(`before ${form} after`);
      assert.equal(clean, 'before [redacted] after');
    });
  }

  test('masks the Basic header of a login and password given as `login:password`', () => {
    const header = `Basic ${base64(`connector:${SECRET}`)}`;
    const clean = redactorFor(SECRET, `connector:${SECRET}`).redact(`got Authorization: ${header}`);
    assert.equal(clean, 'got Authorization: Basic [redacted]');
  });

  test('a secret inside a longer one does not spoil the longer match', () => {
    const clean = redactorFor('abc123', 'xx-abc123-yy').redact('token xx-abc123-yy and abc123');
    assert.equal(clean, 'token [redacted] and [redacted]');
  });

  test('a renewed secret replaces the old one under the same name; delete forgets it', () => {
    const redactor = redactorFor('first-secret');
    redactor.set('secrets', 'second-secret');
    assert.equal(redactor.redact('first-secret second-secret'), 'first-secret [redacted]');
    redactor.delete('secrets');
    assert.equal(redactor.redact('second-secret'), 'second-secret');
  });

  test('undefined and empty secrets are ignored, undefined text stays undefined', () => {
    const redactor = redactorFor('', 'kept-secret');
    redactor.set('other', undefined);
    assert.equal(redactor.redact('a kept-secret b'), 'a [redacted] b');
    assert.equal(redactor.redact(undefined), undefined);
  });
});
