import { Option, type Command } from 'commander';
import { duration, wholeNumber } from '../../src/cli/cliOutput';
import { DEFAULT_MAX_CACHED_WORKFLOWS } from '../../src/config/schema';
import { DEFAULT_START_CONCURRENCY } from './orders';

export const PARTS = ['throughput', 'memory', 'calls', 'closure'] as const;
export type Part = (typeof PARTS)[number];

export interface BenchOptions {
  readonly parts: readonly Part[];
  readonly orders: number;
  readonly openOrders: number;
  readonly maxCachedWorkflows: number;
  readonly wakeQueries: number;
  readonly pollTickets: number;
  readonly pollInterval: number;
  readonly callsWindow: number;
  readonly sweepInterval: number;
  readonly concurrency: number;
  readonly partTimeout: number;
  readonly memoryTimeout: number;
  readonly json: boolean;
  readonly keep: boolean;
}

/** Each size is a flag, defaulting to its BENCH_* variable, then to the size of the real figures. */
export function addBenchOptions(program: Command, env: NodeJS.ProcessEnv = process.env): Command {
  const from = (name: string, fallback: string) => env[name] ?? fallback;
  const count = (flags: string, what: string, variable: string, fallback: number, min = 1) =>
    new Option(flags, `${what} (${variable})`)
      .argParser(wholeNumber(min, 1_000_000))
      .default(wholeNumber(min, 1_000_000)(from(variable, String(fallback))));
  const time = (flags: string, what: string, variable: string, fallback: string) =>
    new Option(flags, `${what} (${variable})`)
      .argParser(duration)
      .default(duration(from(variable, fallback)));
  return program
    .addOption(
      new Option('--parts <list>', `parts to run, comma separated (BENCH_PARTS)`)
        .argParser(parts)
        .default(parts(from('BENCH_PARTS', PARTS.join(',')))),
    )
    .addOption(count('--orders <n>', 'orders (and bare workflows) for the throughput', 'BENCH_ORDERS', 2_000))
    .addOption(count('--open-orders <n>', 'open orders on one worker', 'BENCH_OPEN_ORDERS', 10_000))
    .addOption(
      count(
        '--max-cached-workflows <n>',
        "the memory worker's TicketConnector.Worker.MaxCachedWorkflows",
        'BENCH_MAX_CACHED_WORKFLOWS',
        DEFAULT_MAX_CACHED_WORKFLOWS,
        0,
      ),
    )
    .addOption(count('--wake-queries <n>', 'status queries to evicted orders', 'BENCH_WAKE_QUERIES', 200))
    .addOption(count('--poll-tickets <n>', 'tickets polled for calls and closures', 'BENCH_POLL_TICKETS', 50))
    .addOption(
      time('--poll-interval <duration>', 'what MaxInterval 1h is scaled to', 'BENCH_POLL_INTERVAL', '10s'),
    )
    .addOption(
      time('--calls-window <duration>', 'how long requests are counted', 'BENCH_CALLS_WINDOW', '60s'),
    )
    .addOption(
      time(
        '--sweep-interval <duration>',
        'what the default Sweep.Interval (1 min) is scaled to',
        'BENCH_SWEEP_INTERVAL',
        '5s',
      ),
    )
    .addOption(
      count(
        '--concurrency <n>',
        'workflow starts in flight',
        'BENCH_START_CONCURRENCY',
        DEFAULT_START_CONCURRENCY,
      ),
    )
    .addOption(
      time(
        '--part-timeout <duration>',
        'bound of each throughput run and of opening the polled tickets',
        'BENCH_PART_TIMEOUT',
        '120s',
      ),
    )
    .addOption(
      time(
        '--memory-timeout <duration>',
        'bound of opening the open orders (a part cut short reports what it got)',
        'BENCH_MEMORY_TIMEOUT',
        '6m',
      ),
    )
    .option('--json', 'print the figures as JSON after the table')
    .option('--keep', 'keep the run folder (logs, settings, ledgers, Temporal database)');
}

function parts(value: string): Part[] {
  const chosen = value.split(',').map((part) => part.trim());
  const unknown = chosen.filter((part) => !(PARTS as readonly string[]).includes(part));
  if (unknown.length > 0)
    throw new Error(`unknown parts ${unknown.join(', ')}: choose from ${PARTS.join(', ')}`);
  return chosen as Part[];
}
