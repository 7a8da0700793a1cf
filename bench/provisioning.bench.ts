/**
 * `npm run bench:provisioning`: figures for provisioning at scale, printed side by side, never asserted.
 * Against a Temporal dev server (persisted to SQLite, as `npm start` runs it) and the ServiceNow simulator, each
 * in its own process, with one worker process per part:
 * 1. throughput: orders/s from start to "ticket created" (Transmitted in the ledger) vs a bare one-activity
 *    workflow on the same server;
 * 2. memory: N open orders waiting on one worker with a bounded workflow cache: RSS, per-order cost, and the cost
 *    of waking an evicted order (status query, replay) vs a cached one;
 * 3. ServiceNow calls per open ticket per hour: per-ticket polling alone (measured, time scaled, and computed),
 *    sweep + safety poll (computed, and the sweep measured time scaled at two counts of open tickets);
 * 4. closure latency: polling alone (time scaled), push alone (its own simulator notifying), the sweep alone.
 * Sizes: `--help`, or the BENCH_* variables it names (BENCH_ORDERS, BENCH_OPEN_ORDERS, ...).
 */
import { rmSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { program } from 'commander';
import { parseSettings } from '../src/config/load';
import { SAFETY_POLL_INTERVAL_MS } from '../src/config/schema';
import { TICKET_TABLES } from '../src/contract/tickets';
import { computedPollingCalls, computedSweepCalls, measurePollingCalls } from './provisioning/calls';
import { closureModes } from './provisioning/closure';
import { measureMemory } from './provisioning/memory';
import { addBenchOptions, type BenchOptions } from './provisioning/options';
import type { PollingSizes } from './provisioning/polling';
import { summaryTable, type BenchResults } from './provisioning/report';
import { BenchStack } from './provisioning/stack';
import { measureSweepCalls } from './provisioning/sweepCalls';
import { measureThroughput } from './provisioning/throughput';

/** One status check is one ServiceNow read (getTicket, basic authentication); the measured figure checks it. */
const CALLS_PER_CHECK = 1;
const HOUR_MS = 3_600_000;
/** The sweep's calls are measured again with this many times the polled tickets open: they should not grow. */
const MORE_OPEN_TICKETS = 4;

async function run(options: BenchOptions): Promise<void> {
  const startedAt = Date.now();
  const say = (line: string) =>
    console.log(`[${((Date.now() - startedAt) / 1000).toFixed(0).padStart(4)} s] ${line}`);
  const results: BenchResults = {
    machine: {
      cpus: availableParallelism(),
      node: process.version,
      loadAverage: loadavg().map((l) => +l.toFixed(2)),
    },
    options: { ...options },
    errors: {},
  };
  const stack = await BenchStack.start(say);
  const attempt = async (part: string, measure: () => Promise<void>) => {
    try {
      await measure();
    } catch (error) {
      results.errors[part] = error instanceof Error ? error.message : String(error);
      say(`${part} failed: ${results.errors[part]}`);
    }
  };
  const polling: PollingSizes = {
    tickets: options.pollTickets,
    intervalMs: options.pollInterval,
    concurrency: options.concurrency,
    timeoutMs: options.partTimeout,
    maxCachedWorkflows: options.maxCachedWorkflows,
  };
  try {
    if (options.parts.includes('throughput')) {
      await attempt('throughput', async () => {
        results.throughput = await measureThroughput(
          stack,
          { orders: options.orders, concurrency: options.concurrency, timeoutMs: options.partTimeout },
          options.maxCachedWorkflows,
        );
      });
    }
    if (options.parts.includes('memory')) {
      await attempt('memory', async () => {
        results.memory = await measureMemory(stack, {
          openOrders: options.openOrders,
          maxCachedWorkflows: options.maxCachedWorkflows,
          wakeQueries: options.wakeQueries,
          concurrency: options.concurrency,
          timeoutMs: options.memoryTimeout,
        });
      });
    }
    if (options.parts.includes('calls')) {
      const failed = (part: string) => (error: unknown) => {
        results.errors[part] = error instanceof Error ? error.message : String(error);
        return undefined;
      };
      const pollingMeasured = await measurePollingCalls(stack, {
        ...polling,
        windowMs: options.callsWindow,
      }).catch(failed('calls'));
      const sweepMeasured = await measureSweepCalls(stack, {
        ...polling,
        windowMs: options.callsWindow,
        intervalMs: options.sweepInterval,
        ...sweepDefaults(),
        callsPerCheck: CALLS_PER_CHECK,
        moreTickets: (MORE_OPEN_TICKETS - 1) * options.pollTickets,
      }).catch(failed('calls sweep'));
      results.calls = {
        ...(pollingMeasured === undefined ? {} : { pollingMeasured }),
        ...(sweepMeasured === undefined ? {} : { sweepMeasured }),
        pollingComputed: computedPollingCalls({
          ...defaultPolling(),
          maxIntervalMs: HOUR_MS,
          callsPerCheck: CALLS_PER_CHECK,
        }),
        sweepComputed: sweepComputed(options.openOrders),
      };
    }
    if (options.parts.includes('closure')) {
      const closure: NonNullable<BenchResults['closure']> = {};
      results.closure = closure;
      for (const [mode, measure] of Object.entries(closureModes)) {
        await attempt(`closure ${mode}`, async () => {
          const figures = await measure(stack, polling);
          if (figures !== undefined) closure[figures.mode] = figures;
        });
      }
    }
  } finally {
    await stack.close();
    if (options.keep) say(`run folder kept: ${stack.dir}`);
    else rmSync(stack.dir, { recursive: true, force: true });
  }
  console.log(
    `\nSummary (${results.machine.cpus} CPUs, Node ${results.machine.node}, load average at start ` +
      `${results.machine.loadAverage.join(' ')}; ${((Date.now() - startedAt) / 60_000).toFixed(1)} min)\n` +
      summaryTable(results),
  );
  if (options.json) console.log(`\n${JSON.stringify(results, null, 2)}`);
}

function defaultPolling() {
  const { Polling } = parseSettings({}, 'defaults').TicketConnector;
  return { firstCheckAfterMs: Polling.FirstCheckAfter, backoffCoefficient: Polling.BackoffCoefficient };
}

function sweepDefaults() {
  const { Sweep } = parseSettings({}, 'defaults').TicketConnector;
  return {
    defaultIntervalMs: Sweep.Interval,
    defaultOverlapMs: Sweep.Overlap,
    safetyPollMs: SAFETY_POLL_INTERVAL_MS.withSweep,
  };
}

/**
 * The sweep's default settings with the safety poll at a day, for `openTickets` tickets on one connection,
 * assuming each open ticket changes about once a day.
 */
function sweepComputed(openTickets: number) {
  const { Sweep } = parseSettings({}, 'defaults').TicketConnector;
  const figures = computedSweepCalls(
    {
      intervalMs: Sweep.Interval,
      overlapMs: Sweep.Overlap,
      pageSize: Sweep.PageSize,
      tables: TICKET_TABLES.length,
      safetyPollMs: SAFETY_POLL_INTERVAL_MS.withSweep,
      callsPerCheck: CALLS_PER_CHECK,
    },
    openTickets,
    openTickets / 24,
  );
  return { openTickets, ...figures };
}

addBenchOptions(program.name('npm run bench:provisioning --'))
  .description('provisioning at scale: throughput, worker memory, ServiceNow calls, closure latency')
  .action(run);

program.parseAsync().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
