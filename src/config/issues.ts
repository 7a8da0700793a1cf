import type { z } from 'zod';

/** One line per problem: an issue listing several unknown keys becomes one problem per key. */
export function describeIssue(issue: z.core.$ZodIssue, prefix: readonly PropertyKey[] = []): string[] {
  const path = [...prefix, ...issue.path];
  const where = path.length > 0 ? path.map(String).join('.') : '(top level)';
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map(
        (key) => `${path.length > 0 ? `${where}.` : ''}${key}: is not a known setting (check the spelling)`,
      );
    case 'invalid_key':
      return [`${where}: ${issue.issues.map((inner) => inner.message).join('; ')}`];
    default:
      return [`${where}: ${issue.message}`];
  }
}
