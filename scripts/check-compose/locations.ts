import { isNode, type Document, type LineCounter } from 'yaml';

/** Where a problem is in the compose file, and the plain JSON shapes the checks walk. */

export type PathSegment = string | number;
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** Problems are prefixed with `file:line:col` so editors and CI logs link straight to the spot. */
export interface Locator {
  at(segments: readonly PathSegment[]): string;
}

export function makeLocator(file: string, doc: Document, lineCounter: LineCounter): Locator {
  return {
    at(segments) {
      // Merged (`<<`) or aliased values have no node of their own: fall back to the closest ancestor.
      for (let length = segments.length; length >= 0; length -= 1) {
        const node: unknown = length === 0 ? doc.contents : doc.getIn(segments.slice(0, length), true);
        if (isNode(node) && node.range) {
          const { line, col } = lineCounter.linePos(node.range[0]);
          return `${file}:${line}:${col}`;
        }
      }
      return file;
    },
  };
}

export function formatPath(segments: readonly PathSegment[]): string {
  return segments
    .map((segment, index) =>
      typeof segment === 'number' ? `[${segment}]` : index === 0 ? segment : `.${segment}`,
    )
    .join('');
}

export function firstLine(message: string): string {
  // yaml's pretty messages append " at line N, column M:" and a code excerpt; the location is already
  // in our prefix.
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '');
}

export function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
