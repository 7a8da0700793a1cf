import type { MeasuredPollingCalls } from './calls';
import type { ClosureFigures } from './closure';
import type { MemoryFigures } from './memory';
import type { MeasuredSweepCalls } from './sweepCalls';
import type { ThroughputFigures } from './throughput';

/** Every figure of one run; a part not run is absent, a part that failed has an error. */
export interface BenchResults {
  readonly machine: { readonly cpus: number; readonly node: string; readonly loadAverage: readonly number[] };
  readonly options: Record<string, unknown>;
  throughput?: ThroughputFigures;
  memory?: MemoryFigures;
  calls?: {
    readonly pollingMeasured?: MeasuredPollingCalls;
    readonly pollingComputed: { readonly firstHour: number; readonly steadyPerHour: number };
    readonly sweepComputed: {
      readonly openTickets: number;
      readonly sweepCallsPerHour: number;
      readonly perTicketPerHour: number;
    };
    readonly sweepMeasured?: MeasuredSweepCalls;
  };
  closure?: { -readonly [Mode in ClosureFigures['mode']]?: ClosureFigures };
  readonly errors: Record<string, string>;
}

/** The summary table: one line per figure, what was measured and what was computed said on each. */
export function summaryTable(results: BenchResults): string {
  const rows: [string, string][] = [];
  const failed = (part: string) => results.errors[part];
  const { throughput, memory, calls, closure } = results;
  if (throughput !== undefined) {
    const { provisioning, bare } = throughput;
    rows.push([
      '1. Throughput, start -> ticket created',
      `${provisioning.perSecond} orders/s (${provisioning.done} orders) vs bare one-activity workflow ` +
        `${bare.perSecond}/s: ratio ${throughput.ratio} (goal >= 0.8) [measured]` +
        (provisioning.timedOut || bare.timedOut ? ' TIMED OUT, partial' : ''),
    ]);
  } else if (failed('throughput') !== undefined)
    rows.push(['1. Throughput', `failed: ${failed('throughput')}`]);
  if (memory !== undefined) {
    rows.push([
      `2. Memory, ${memory.openOrders} open orders, cache ${memory.maxCachedWorkflows}`,
      `worker RSS ${memory.rssBeforeMb} -> ${memory.rssAfterMb} MB (peak ${memory.peakRssMb}), ` +
        `${memory.perOrderKb} KiB/order overall; ${memory.rssAtFifthMb} MB at ${memory.ordersAtFifth} orders, ` +
        `${memory.marginalPerOrderKb} KiB per order after that [measured]` +
        (memory.timedOut ? ' TIMED OUT, partial' : ''),
    ]);
    rows.push([
      '   waking an order (status query)',
      `evicted p50 ${memory.evictedQueryMs.p50} ms, p99 ${memory.evictedQueryMs.p99} ms ` +
        `(${memory.evictedQueryMs.count}); cached p50 ${memory.cachedQueryMs.p50} ms, ` +
        `p99 ${memory.cachedQueryMs.p99} ms (${memory.cachedQueryMs.count}) [measured]`,
    ]);
  } else if (failed('memory') !== undefined) rows.push(['2. Memory', `failed: ${failed('memory')}`]);
  if (calls !== undefined) {
    const measured = calls.pollingMeasured;
    rows.push([
      '3. Calls/open ticket/hour, polling (1h)',
      (measured === undefined
        ? `measured: failed (${failed('calls') ?? 'not run'})`
        : `${measured.perTicketPerHour} [measured, time scaled, ${measured.requests} requests]`) +
        `; ${calls.pollingComputed.steadyPerHour} steady, ${calls.pollingComputed.firstHour} in the first hour [computed]`,
    ]);
    rows.push([
      '   sweep (1 min) + safety poll (1 day)',
      `${sweepMeasuredText(calls.sweepMeasured, failed('calls sweep'))}; ` +
        `${calls.sweepComputed.perTicketPerHour} for ${calls.sweepComputed.openTickets} open tickets ` +
        `(${calls.sweepComputed.sweepCallsPerHour} sweep calls/h per connection, 2 tables) [computed]`,
    ]);
  }
  if (closure !== undefined) {
    for (const mode of ['polling', 'push', 'sweep'] as const) {
      const figures = closure?.[mode];
      rows.push([
        mode === 'polling' ? '4. Closure latency, polling' : `   ${mode}`,
        figures === undefined
          ? `failed: ${failed(`closure ${mode}`) ?? 'no figures'}`
          : `p50 ${figures.latencySeconds.p50} s, p99 ${figures.latencySeconds.p99} s ` +
            `(${figures.finished}/${figures.closed} recorded) [measured, ${figures.note}]` +
            (figures.scaledMinutes === undefined
              ? ''
              : `; at the real interval: p50 ${figures.scaledMinutes.p50} min, p99 ${figures.scaledMinutes.p99} min`),
      ]);
    }
  }
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)} | ${value}`).join('\n');
}

/** Each window's figures: the sweep measured (time scaled), the safety poll computed. */
function sweepMeasuredText(measured: MeasuredSweepCalls | undefined, error: string | undefined): string {
  if (measured === undefined) return `measured: failed (${error ?? 'not run'})`;
  const windows = measured.windows.map(
    (window) =>
      `${window.perTicketPerHour} for ${window.tickets} open tickets ` +
      `(${window.sweepCallsPerHour} sweep calls/h per connection, ${window.callsPerSweep}/sweep over ` +
      `${window.sweeps} sweeps)`,
  );
  return (
    `${windows.join(', ')} [sweep measured, 1 table, Interval ${measured.intervalMs / 1000} s (x${measured.scale}); ` +
    `safety poll computed]`
  );
}
