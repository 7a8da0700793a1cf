import { checkEndpointUrl } from './httpExchange';
import { IdentityManagerError } from './identityManagerError';

export const URL_PLACEHOLDERS = ['assignmentId', 'orderId', 'connection', 'state'] as const;
export type UrlPlaceholder = (typeof URL_PLACEHOLDERS)[number];
export type UrlValues = Readonly<Record<UrlPlaceholder, string>>;

const PLACEHOLDER = /\{([^{}]*)\}/g;
const PLACEHOLDER_IN = /\{[^{}]*\}/;
const KNOWN: ReadonlySet<string> = new Set(URL_PLACEHOLDERS);
const SAMPLE: UrlValues = { assignmentId: 'a', orderId: 'o', connection: 'c', state: 's' };

function invalid(reason: string): IdentityManagerError {
  // The template is not quoted: its query string may hold an API key.
  return new IdentityManagerError({
    kind: 'invalid-request',
    message: `Identity Manager UrlTemplate ${reason}`,
  });
}

/** `.` and `..`, also written `%2e`: URL parsers resolve them, so they address another path. */
const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;

/**
 * `Http.UrlTemplate` with `{assignmentId}`, `{orderId}`, `{connection}` and `{state}` placeholders. Values are
 * encoded with encodeURIComponent, so an id holding `/`, `?` or `#` cannot change which resource is addressed.
 * A value that would make a whole path segment `.` or `..` (which no encoding hides: URL parsers resolve `%2e`
 * too) is refused, so that the call and its token never go to another path.
 */
export class UrlTemplate {
  /** The path segments of the template that hold placeholders: the only places where a value can form one. */
  private readonly pathSegments: readonly string[];

  private constructor(private readonly template: string) {
    const origin = /^[a-z][a-z\d+.-]*:\/\/[^/?#]*/i.exec(template)?.[0] ?? '';
    const path = template.slice(origin.length).split(/[?#]/, 1)[0] ?? '';
    this.pathSegments = path.split('/').filter((segment) => PLACEHOLDER_IN.test(segment));
  }

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
    const fill = (text: string) =>
      text.replace(PLACEHOLDER, (_match, name: UrlPlaceholder) => encodeURIComponent(values[name]));
    for (const segment of this.pathSegments) {
      const rendered = fill(segment);
      if (DOT_SEGMENT.test(rendered)) {
        const names = [...segment.matchAll(PLACEHOLDER)].map((match) => `{${match[1] ?? ''}}`).join(', ');
        throw invalid(
          `refuses ${names}: the value makes the path segment "${rendered}", which would send the call to another path`,
        );
      }
    }
    const url = fill(this.template);
    checkEndpointUrl(url, 'UrlTemplate');
    return url;
  }
}
