import { setTimeout as sleep } from 'node:timers/promises';

export { sleep };

/** The value below which `share` of the sorted samples fall (nearest rank). */
export function percentile(sorted: readonly number[], share: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * share) - 1)] ?? NaN;
}

export interface Spread {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export function spread(samples: readonly number[]): Spread {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted.at(-1) ?? NaN,
  };
}

/**
 * Polls `count` every `intervalMs` until it reaches `target` or `timeoutMs` passes. Returns the count reached and
 * when (epoch ms): a part that runs out of time still reports what it got.
 */
export async function waitForCount(
  count: () => number | Promise<number>,
  target: number,
  { timeoutMs, intervalMs = 200 }: { readonly timeoutMs: number; readonly intervalMs?: number },
): Promise<{ readonly reached: number; readonly at: number; readonly timedOut: boolean }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reached = await count();
    if (reached >= target) return { reached, at: Date.now(), timedOut: false };
    if (Date.now() >= deadline) return { reached, at: Date.now(), timedOut: true };
    await sleep(intervalMs);
  }
}

/**
 * Runs `run(i)` for i in [0, total) with at most `concurrency` in flight, starting none after `deadline` (epoch
 * ms). Returns how many were run.
 */
export async function inParallel(
  total: number,
  concurrency: number,
  run: (index: number) => Promise<void>,
  deadline = Infinity,
): Promise<number> {
  let next = 0;
  const lane = async () => {
    while (next < total && Date.now() < deadline) {
      const index = next++;
      await run(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, lane));
  return next;
}

export const mb = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;
export const round = (value: number, digits = 1): number => Number(value.toFixed(digits));
