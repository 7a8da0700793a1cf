import { checkEndpointUrl } from './httpExchange';
import { IdentityManagerError } from './identityManagerError';

export const URL_PLACEHOLDERS = ['assignmentId', 'orderId', 'connection', 'state'] as const;
export type UrlPlaceholder = (typeof URL_PLACEHOLDERS)[number];
export type UrlValues = Readonly<Record<UrlPlaceholder, string>>;

const PLACEHOLDER = /\{([^{}]*)\}/g;
const KNOWN: ReadonlySet<string> = new Set(URL_PLACEHOLDERS);
const SAMPLE: UrlValues = { assignmentId: 'a', orderId: 'o', connection: 'c', state: 's' };

function invalid(reason: string): IdentityManagerError {
  // The template is not quoted: its query string may hold an API key.
  return new IdentityManagerError({
    kind: 'invalid-request',
    message: `Identity Manager UrlTemplate ${reason}`,
  });
}

/**
 * `Http.UrlTemplate` with `{assignmentId}`, `{orderId}`, `{connection}` and `{state}` placeholders. Values are
 * encoded with encodeURIComponent, so an id holding `/`, `?` or `#` cannot change which resource is addressed.
 */
export class UrlTemplate {
  private constructor(private readonly template: string) {}

  /** Refuses unknown placeholders and stray braces now, at start, rather than on the first transition. */
  static parse(template: string): UrlTemplate {
    const unknown = [...template.matchAll(PLACEHOLDER)]
      .map((match) => match[1] ?? '')
      .filter((name) => !KNOWN.has(name));
    if (unknown.length > 0) {
      const known = URL_PLACEHOLDERS.map((name) => `{${name}}`).join(', ');
      throw invalid(
        `has unknown placeholder${unknown.length > 1 ? 's' : ''} ${unknown.map((name) => `{${name}}`).join(', ')} (known: ${known})`,
      );
    }
    if (/[{}]/.test(template.replace(PLACEHOLDER, ''))) throw invalid('has an unmatched "{" or "}"');
    const parsed = new UrlTemplate(template);
    parsed.render(SAMPLE);
    return parsed;
  }

  render(values: UrlValues): string {
    const url = this.template.replace(PLACEHOLDER, (_match, name: UrlPlaceholder) =>
      encodeURIComponent(values[name]),
    );
    checkEndpointUrl(url, 'UrlTemplate');
    return url;
  }
}
