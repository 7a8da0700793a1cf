import type { Client } from '@temporalio/client';
import { statusQuery } from '../../src/contract/messages';
import { mb, round, sleep, spread, waitForCount, type Spread } from './measure';
import { startOrders } from './orders';
import type { BenchStack, ConnectorPart } from './stack';

export interface MemorySizes {
  readonly openOrders: number;
  readonly maxCachedWorkflows: number;
  /** Status queries to orders out of the cache (and as many, at most 50, to cached ones). */
  readonly wakeQueries: number;
  readonly concurrency: number;
  /** No batch of orders starts after this; the last batches then get GRACE_MS to open their tickets. */
  readonly timeoutMs: number;
}

export interface MemoryFigures {
  /** Orders waiting (Transmitted) when the RSS was read; `started` is more when the part ran out of time. */
  readonly openOrders: number;
  readonly started: number;
  readonly maxCachedWorkflows: number;
  readonly timedOut: boolean;
  readonly rssBeforeMb: number;
  readonly rssAfterMb: number;
  readonly peakRssMb: number;
  /** (RSS after − RSS before) / open orders: the cache's fixed step spread over N, so it falls as N grows. */
  readonly perOrderKb: number;
  /** RSS once a fifth of the orders waited, and the slope from there to the end: what one more order costs. */
  readonly rssAtFifthMb: number;
  readonly ordersAtFifth: number;
  readonly marginalPerOrderKb: number;
  /** Status query round trips (ms) to orders in the worker's cache. */
  readonly cachedQueryMs: Spread;
  /** Status query round trips (ms) to orders evicted from it: each replays the order's history. */
  readonly evictedQueryMs: Spread;
}

/** Lets the worker's heap and the server settle before reading the RSS. */
const SETTLE_MS = 5_000;
const MAX_CACHED_QUERIES = 50;
const BATCH = 200;
const GRACE_MS = 60_000;

/**
 * N open orders waiting on one worker process with a bounded workflow cache: the worker's RSS before and after,
 * and what waking an evicted order costs (a status query, which makes the worker replay its history) compared
 * with a cached one. Queries run one at a time, cached ones first (an evicted order, once woken, takes a slot).
 */
export async function measureMemory(stack: BenchStack, sizes: MemorySizes): Promise<MemoryFigures> {
  const part = await stack.startConnectorPart('memory', {
    polling: { FirstCheckAfter: '1h', MaxInterval: '1h' },
    maxCachedWorkflows: sizes.maxCachedWorkflows,
  });
  try {
    await sleep(SETTLE_MS);
    const before = part.worker.memory();
    stack.say(
      `memory: worker RSS ${mb(before.rss)} MB idle; starting ${sizes.openOrders} orders ` +
        `(maxCachedWorkflows ${sizes.maxCachedWorkflows})...`,
    );
    let fifth = { orders: 0, rss: before.rss };
    const opened = await openPaced(stack, part, sizes, async (reached) => {
      await sleep(SETTLE_MS);
      fifth = { orders: reached, rss: part.worker.memory().rss };
      stack.say(`memory: ${reached} orders waiting, worker RSS ${mb(fifth.rss)} MB`);
    });
    await sleep(SETTLE_MS);
    const after = part.worker.memory();
    stack.say(`memory: ${opened.reached} orders waiting, worker RSS ${mb(after.rss)} MB; waking orders...`);

    // Oldest first: the last orders to run a task are the ones the cache keeps.
    const byAge = [...part.ledger.recordedAt('Transmitted').keys()];
    const cached = byAge.slice(-Math.min(MAX_CACHED_QUERIES, Math.floor(sizes.maxCachedWorkflows / 4)));
    const evicted = byAge.slice(0, Math.max(0, byAge.length - 2 * sizes.maxCachedWorkflows));
    return {
      openOrders: opened.reached,
      started: opened.started,
      maxCachedWorkflows: sizes.maxCachedWorkflows,
      timedOut: opened.timedOut,
      rssBeforeMb: mb(before.rss),
      rssAfterMb: mb(after.rss),
      peakRssMb: mb(after.peakRss),
      perOrderKb: round((after.rss - before.rss) / 1024 / Math.max(1, opened.reached)),
      rssAtFifthMb: mb(fifth.rss),
      ordersAtFifth: fifth.orders,
      marginalPerOrderKb: round((after.rss - fifth.rss) / 1024 / Math.max(1, opened.reached - fifth.orders)),
      cachedQueryMs: await queryTimes(stack.client, cached),
      evictedQueryMs: await queryTimes(stack.client, sample(evicted, sizes.wakeQueries)),
    };
  } finally {
    await part.stop();
  }
}

/**
 * Starts the orders a batch at a time, the next batch once the worker has all but one batch's tickets open, so
 * that when time runs out the RSS is read with few orders in flight. No batch starts after the deadline; the
 * last ones get a grace period.
 */
async function openPaced(
  stack: BenchStack,
  part: ConnectorPart,
  sizes: MemorySizes,
  /** Called once, when a fifth of the orders wait. */
  atFifth: (reached: number) => Promise<void>,
): Promise<{ readonly started: number; readonly reached: number; readonly timedOut: boolean }> {
  const deadline = Date.now() + sizes.timeoutMs;
  const transmitted = () => part.ledger.count('Transmitted');
  let started = 0;
  let fifthTaken = false;
  while (started < sizes.openOrders && Date.now() < deadline) {
    if (!fifthTaken && started >= sizes.openOrders / 5) {
      fifthTaken = true;
      await atFifth((await waitForCount(transmitted, started, { timeoutMs: GRACE_MS })).reached);
    }
    const batch = Math.min(BATCH, sizes.openOrders - started);
    await startOrders(stack.client, 'memory', part.taskQueue, batch, {
      concurrency: sizes.concurrency,
      first: started,
    });
    started += batch;
    await waitForCount(transmitted, started - BATCH, { timeoutMs: Math.max(0, deadline - Date.now()) });
  }
  const opened = await waitForCount(transmitted, started, { timeoutMs: GRACE_MS });
  return { started, reached: opened.reached, timedOut: opened.timedOut || started < sizes.openOrders };
}

async function queryTimes(client: Client, workflowIds: readonly string[]): Promise<Spread> {
  const times: number[] = [];
  for (const workflowId of workflowIds) {
    const started = performance.now();
    await client.workflow.getHandle(workflowId).query(statusQuery);
    times.push(performance.now() - started);
  }
  const figures = spread(times);
  return { ...figures, p50: round(figures.p50), p99: round(figures.p99), max: round(figures.max) };
}

/** Up to `count` distinct items, chosen at random. */
function sample<T>(items: readonly T[], count: number): T[] {
  const pool = [...items];
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [pool[i], pool[j]] = [pool[j] as T, pool[i] as T];
  }
  return pool.slice(0, count);
}
