/** Parses an RFC 8288 `Link` header (`<url>;rel="next",<url>;rel="last"`) into rel -> URL. */
export function parseLinkHeader(header: string | undefined): Map<string, string> {
  const links = new Map<string, string>();
  if (header === undefined) return links;
  for (const match of header.matchAll(/<([^>]*)>\s*((?:;\s*[^;,]+)*)/g)) {
    const [, url, parameters] = match;
    const rel = /;\s*rel\s*=\s*"?([^";,]+)"?/i.exec(parameters ?? '')?.[1];
    if (url !== undefined && rel !== undefined) {
      for (const name of rel.trim().split(/\s+/)) links.set(name.toLowerCase(), url);
    }
  }
  return links;
}

export function parseTotalCount(header: string | undefined): number | undefined {
  if (header === undefined || !/^\d+$/.test(header.trim())) return undefined;
  return Number(header.trim());
}
