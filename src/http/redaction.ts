const MARK = '[redacted]';

/** HTML escapers differ in how they write quotes; each of these is common. */
const HTML_ESCAPES: readonly Readonly<Record<string, string>>[] = [
  { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' },
  { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#x27;' },
  { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' },
];

/**
 * The ways a peer may quote a secret back: as sent in a URL or form, inside a Basic header or a token blob
 * (base64 with or without padding, base64url), in an HTML error page, in a JSON string.
 */
function writtenForms(secret: string): string[] {
  const base64 = Buffer.from(secret, 'utf8').toString('base64');
  return [
    secret,
    encodeURIComponent(secret),
    new URLSearchParams({ s: secret }).toString().slice('s='.length),
    base64,
    base64.replace(/=+$/, ''),
    Buffer.from(secret, 'utf8').toString('base64url'),
    ...HTML_ESCAPES.map((table) => secret.replace(/[&<>"']/g, (char) => table[char] ?? char)),
    JSON.stringify(secret).slice(1, -1),
  ];
}

/**
 * Replaces every occurrence of a known secret, in every form a peer may echo it. Applied to any text that came
 * from the network or a library. Secrets are kept by name, so that a renewed token replaces the old one instead
 * of piling up.
 */
export class SecretRedactor {
  private readonly secrets = new Map<string, readonly string[]>();
  /** Every form of every secret, longest first: a secret inside a longer one must not spoil its match. */
  private forms: readonly string[] = [];

  set(name: string, ...values: (string | undefined)[]): void {
    this.secrets.set(
      name,
      values.filter((value): value is string => value !== undefined && value !== ''),
    );
    this.refresh();
  }

  delete(name: string): void {
    this.secrets.delete(name);
    this.refresh();
  }

  redact(text: string): string;
  redact(text: string | undefined): string | undefined;
  redact(text: string | undefined): string | undefined {
    if (text === undefined) return undefined;
    let clean = text;
    for (const form of this.forms) clean = clean.split(form).join(MARK);
    return clean;
  }

  private refresh(): void {
    const forms = new Set<string>();
    for (const values of this.secrets.values()) {
      for (const secret of values) for (const form of writtenForms(secret)) if (form !== '') forms.add(form);
    }
    this.forms = [...forms].sort((a, b) => b.length - a.length);
  }
}
