/**
 * A broken invariant is a bug in the connector, not a verdict on the order: it throws a plain Error, which fails
 * the workflow task (the SDK retries it) instead of the workflow. The order stays open, visible in the Web UI
 * with the message, and a fixed worker resumes it where it stopped.
 */
export class InvariantError extends Error {
  constructor(what: string) {
    super(`Internal invariant broken: ${what}`);
    this.name = 'InvariantError';
  }
}

export function invariant<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new InvariantError(what);
  return value;
}
