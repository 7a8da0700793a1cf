import { isLoopbackHost } from './loopback';

/** Why a URL may not receive credentials. */
export type EndpointProblem =
  | { readonly kind: 'not-a-url' }
  /** Plain http to another machine, or another scheme: credentials would cross a network in clear text. */
  | { readonly kind: 'not-https'; readonly origin: string }
  /** `user:password@` in the URL: secrets belong in settings meant for them, never in a URL that gets logged. */
  | { readonly kind: 'credentials-in-url'; readonly origin: string };

export type EndpointCheck =
  | { readonly ok: true; readonly url: URL }
  /** `url` when the text is a URL at all. */
  | { readonly ok: false; readonly url?: URL; readonly problems: readonly EndpointProblem[] };

/**
 * The one rule for every URL the connector sends credentials to (ServiceNow, its token endpoint, Identity
 * Manager, its token endpoint, push notifications): https, or plain http to this machine only, and no
 * credentials in the URL. Each caller turns the problems into its own typed error.
 */
export function checkSecureEndpoint(text: string): EndpointCheck {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, problems: [{ kind: 'not-a-url' }] };
  }
  // Only scheme and host: the path or query may hold an API key.
  const origin = `${url.protocol}//${url.host}`;
  const problems: EndpointProblem[] = [];
  const secure = url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
  if (!secure) problems.push({ kind: 'not-https', origin });
  if (url.username !== '' || url.password !== '') problems.push({ kind: 'credentials-in-url', origin });
  return problems.length === 0 ? { ok: true, url } : { ok: false, url, problems };
}

/**
 * The URL, checked by {@link checkSecureEndpoint}; otherwise throws what `refuse` makes of the first problem
 * (each adapter has its own error type).
 */
export function requireSecureEndpoint(text: string, refuse: (problem: EndpointProblem) => Error): URL {
  const check = checkSecureEndpoint(text);
  if (check.ok) return check.url;
  throw refuse(check.problems[0] ?? { kind: 'not-a-url' });
}
