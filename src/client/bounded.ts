import type { Client } from '@temporalio/client';

export interface CallBounds {
  /** The whole call, every request it makes included, gives up after this long. */
  readonly timeoutMs: number;
  /** Aborting it cancels the requests in flight (the outcome of a start is then unknown: retry it). */
  readonly signal?: AbortSignal;
}

/**
 * Runs `call` under a deadline and, when given, an abort signal. The SDK adds an abort listener to the signal for
 * every request and never removes it, so a signal that lives as long as the process (a `fulfill` running for days)
 * would collect one per request, and Node warns of a leak past ten. Each call gets a signal of its own instead,
 * linked to the long-lived one only while the call runs.
 */
export async function bounded<T>(client: Client, bounds: CallBounds, call: () => Promise<T>): Promise<T> {
  const withDeadline = () => client.withDeadline(Date.now() + bounds.timeoutMs, call);
  const { signal } = bounds;
  if (signal === undefined) return withDeadline();
  const own = new AbortController();
  const forward = () => own.abort(signal.reason);
  if (signal.aborted) forward();
  else signal.addEventListener('abort', forward, { once: true });
  try {
    return await client.withAbortSignal(own.signal, withDeadline);
  } finally {
    signal.removeEventListener('abort', forward);
  }
}
