/**
 * Settings trees as .NET configuration sees them: nested sections whose names match case-insensitively, addressed
 * by paths such as `Connections.Main.Password`. Every store produces and merges trees through these helpers, so
 * a vault secret and an environment variable land on the same key as the file's spelling of it.
 */
import { isObject, type JsonObject } from '../config/settingsFile';

export { isObject, type JsonObject };

/** `Connections.Main.Password`: how a setting is named in reports. */
export function pathText(keys: readonly string[]): string {
  return keys.join('.');
}

/**
 * Sets a nested value, matching existing keys case-insensitively as .NET configuration does, and returns the
 * path as it is spelled in the tree (the file's spelling wins).
 */
export function setPath(tree: JsonObject, keys: readonly string[], value: unknown): string[] {
  const spelled: string[] = [];
  let node = tree;
  keys.forEach((key, index) => {
    const existing =
      Object.keys(node).find((candidate) => candidate.toLowerCase() === key.toLowerCase()) ?? key;
    spelled.push(existing);
    if (index === keys.length - 1) {
      node[existing] = value;
      return;
    }
    // Own keys only: a section named like an Object.prototype member ("constructor") is created, not inherited.
    const child = Object.hasOwn(node, existing) ? node[existing] : undefined;
    if (!isObject(child)) node[existing] = {};
    node = node[existing] as JsonObject;
  });
  return spelled;
}

/** The value at a path (case-insensitive), or undefined. */
export function getPath(tree: unknown, keys: readonly string[]): unknown {
  let node = tree;
  for (const key of keys) {
    if (!isObject(node)) return undefined;
    const existing = Object.keys(node).find((candidate) => candidate.toLowerCase() === key.toLowerCase());
    if (existing === undefined) return undefined;
    node = node[existing];
  }
  return node;
}

/** Every leaf (anything that is not a section) with its path; lists count as leaves, as the file writes them. */
export function leaves(
  tree: JsonObject,
  prefix: readonly string[] = [],
): { path: string[]; value: unknown }[] {
  return Object.entries(tree).flatMap(([key, value]) =>
    isObject(value) ? leaves(value, [...prefix, key]) : [{ path: [...prefix, key], value }],
  );
}
