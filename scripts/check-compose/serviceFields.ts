import { isObject, type Json, type JsonObject, type PathSegment } from './locations';

/** The fields of a compose service that several rules read, in each of the forms compose accepts. */

export interface Dependency {
  name: string;
  /** Where the entry sits under depends_on: a list index or the map key. */
  key: PathSegment;
  condition: string;
}

export function dependsOn(value: Json | undefined): Dependency[] {
  if (Array.isArray(value)) {
    return value.flatMap((item, index) =>
      typeof item === 'string' ? [{ name: item, key: index, condition: 'service_started' }] : [],
    );
  }
  if (isObject(value)) {
    return Object.entries(value).map(([name, options]) => ({
      name,
      key: name,
      condition:
        isObject(options) && typeof options.condition === 'string' ? options.condition : 'service_started',
    }));
  }
  return [];
}

/** `environment` as a map (`KEY: value`) or a list (`KEY=value`); a bare `KEY` passes the host's value through. */
export function environmentOf(service: JsonObject): Map<string, string | undefined> {
  const environment = new Map<string, string | undefined>();
  const value = service.environment;
  if (Array.isArray(value)) {
    for (const item of value) {
      if (typeof item !== 'string') continue;
      const equals = item.indexOf('=');
      if (equals < 0) environment.set(item, undefined);
      else environment.set(item.slice(0, equals), item.slice(equals + 1));
    }
  } else if (isObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      // Compose takes scalars only here; anything else is the schema's to report.
      if (typeof item === 'string' || typeof item === 'number' || typeof item === 'boolean') {
        environment.set(key, String(item));
      } else environment.set(key, undefined);
    }
  }
  return environment;
}

/** Where an environment variable is, for problem locations: the map key or the list index. */
export function environmentSegment(service: JsonObject, name: string): PathSegment {
  const value = service.environment;
  if (Array.isArray(value)) {
    const index = value.findIndex(
      (item) => typeof item === 'string' && (item === name || item.startsWith(`${name}=`)),
    );
    return index < 0 ? name : index;
  }
  return name;
}

/** `repository` and `tag` of the image reference (no digest handling: the file pins by tag). */
export function imageOf(service: JsonObject): { repository: string; tag: string } | undefined {
  if (typeof service.image !== 'string') return undefined;
  const slash = service.image.lastIndexOf('/');
  const colon = service.image.lastIndexOf(':');
  if (colon <= slash) return { repository: service.image, tag: 'latest' };
  return { repository: service.image.slice(0, colon), tag: service.image.slice(colon + 1) };
}

export function profilesOf(service: JsonObject): string[] {
  return Array.isArray(service.profiles)
    ? service.profiles.filter((item): item is string => typeof item === 'string')
    : [];
}
