const MARK = '[redacted]';

/**
 * Replaces every occurrence of a known secret. Applied to any text that came
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
      for (const secret of values) forms.add(secret);
    }
    this.forms = [...forms].sort((a, b) => b.length - a.length);
  }
}
