import { setTimeout as sleep } from 'node:timers/promises';

/** Waits `ms`, or less when `signal` aborts first; never throws. */
export async function pause(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted === true) return;
  await sleep(Math.max(0, ms), undefined, { signal }).catch(() => undefined);
}

/** Thrown by an {@link until} probe to stop waiting at once (what was awaited can no longer happen). */
export class GiveUp extends Error {}

/**
 * Polls `probe` every `intervalMs` until it returns a value other than undefined. Bounded in attempts and time;
 * the error says what was awaited. Errors thrown by the probe count as "not yet" (a server restarting),
 * except {@link GiveUp}.
 */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  { timeoutMs, intervalMs = 250, signal }: { timeoutMs: number; intervalMs?: number; signal?: AbortSignal },
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  const maxAttempts = Math.ceil(timeoutMs / intervalMs) + 1;
  let lastError: unknown;
  for (let attempt = 0; attempt < maxAttempts && Date.now() <= deadline; attempt += 1) {
    if (signal?.aborted === true) throw new Error(`Stopped while waiting for ${what}`);
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      if (error instanceof GiveUp) throw error;
      lastError = error;
    }
    await pause(intervalMs, signal);
  }
  const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
  throw new Error(`Timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${cause}`);
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
