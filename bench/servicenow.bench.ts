/**
 * `npm run bench`: figures for the simulator and the client, printed, never asserted.
 * - the simulator's rate of simple reads on loopback (raw keep-alive HTTP, and through our client);
 * - the client's memory while streaming 100,000 users page by page.
 * The simulator runs as a child process so that the load generator does not share its event loop.
 */
import { once } from 'node:events';
import { Agent, request, type IncomingMessage } from 'node:http';
import { BENCH_PASSWORD, startSimulatorProcess } from './simulatorProcess';
import { ServiceNowClient } from '../src/servicenow/client';
import { ADMIN_USER_SYS_ID } from '../src/simulator/server';

const USERS = Number(process.env.BENCH_USERS ?? 100_000);
const READS = Number(process.env.BENCH_READS ?? 20_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const MAX_PHASE_MS = 60_000;

async function admin(url: string, pathName: string, body: unknown): Promise<unknown> {
  const response = await fetch(`${url}/sim/admin${pathName}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: basic() },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${pathName}: ${response.status} ${await response.text()}`);
  return response.json();
}

function basic(): string {
  return `Basic ${Buffer.from(`admin:${BENCH_PASSWORD}`).toString('base64')}`;
}

function percentile(sorted: readonly number[], share: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * share))] ?? 0;
}

/** Runs `total` calls with `concurrency` in flight, bounded by MAX_PHASE_MS; returns rate and latencies. */
async function load(total: number, concurrency: number, call: () => Promise<void>) {
  const latencies: number[] = [];
  const started = performance.now();
  let issued = 0;
  const worker = async () => {
    while (issued < total && performance.now() - started < MAX_PHASE_MS) {
      issued++;
      const begin = performance.now();
      await call();
      latencies.push(performance.now() - begin);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    perSecond: Math.round(latencies.length / seconds),
    p50: percentile(latencies, 0.5).toFixed(1),
    p99: percentile(latencies, 0.99).toFixed(1),
  };
}

async function rawReads(url: string) {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const target = new URL(
    `${url}/api/now/table/sys_user/${ADMIN_USER_SYS_ID}?sysparm_fields=sys_id,user_name`,
  );
  const result = await load(READS, CONCURRENCY, async () => {
    const req = request(target, { agent, headers: { authorization: basic(), accept: 'application/json' } });
    req.end();
    const [response] = (await once(req, 'response')) as [IncomingMessage];
    response.resume();
    await once(response, 'end');
    if (response.statusCode !== 200) throw new Error(`read answered ${response.statusCode}`);
  });
  agent.destroy();
  return result;
}

async function clientReads(client: ServiceNowClient) {
  return load(READS / 4, CONCURRENCY, async () => {
    if ((await client.findUser('admin', { fields: ['sys_id'] })) === undefined)
      throw new Error('admin not found');
  });
}

async function streamUsers(client: ServiceNowClient) {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const baseline = process.memoryUsage();
  let peakHeap = baseline.heapUsed;
  let peakRss = baseline.rss;
  // Heap still in use after a full collection: flat if nothing accumulates across pages.
  let peakRetained = baseline.heapUsed;
  let rows = 0;
  let pages = 0;
  const started = performance.now();
  for await (const page of client.streamTable('sys_user', {
    fields: ['sys_id', 'user_name', 'email', 'active'],
  })) {
    rows += page.rows.length;
    pages++;
    const now = process.memoryUsage();
    peakHeap = Math.max(peakHeap, now.heapUsed);
    peakRss = Math.max(peakRss, now.rss);
    if (gc !== undefined && pages % 10 === 0) {
      gc();
      peakRetained = Math.max(peakRetained, process.memoryUsage().heapUsed);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
  return {
    rows,
    pages,
    rowsPerSecond: Math.round(rows / seconds),
    heapBaselineMb: mb(baseline.heapUsed),
    peakHeapMb: mb(peakHeap),
    peakHeapAboveBaselineMb: mb(peakHeap - baseline.heapUsed),
    peakRssMb: mb(peakRss),
    retainedAboveBaselineMb: mb(peakRetained - baseline.heapUsed),
    gcExposed: gc !== undefined,
  };
}

async function main(): Promise<void> {
  const simulator = await startSimulatorProcess();
  try {
    const seedStarted = performance.now();
    await admin(simulator.url, '/seed', { users: USERS, groups: 100, membershipsPerUser: 0 });
    console.log(`Seeded ${USERS} users in ${Math.round(performance.now() - seedStarted)} ms`);

    const raw = await rawReads(simulator.url);
    console.log(
      `Simulator, simple reads (keep-alive HTTP, ${CONCURRENCY} in flight): ${raw.perSecond} req/s over ${raw.requests} requests, p50 ${raw.p50} ms, p99 ${raw.p99} ms`,
    );

    for (const pageSize of [1000, 5000]) {
      const client = new ServiceNowClient({
        tableApiUrl: `${simulator.url}/api/now/table`,
        credentials: { kind: 'basic', login: 'admin', password: BENCH_PASSWORD },
        pageSize,
      });
      if (pageSize === 1000) {
        const viaClient = await clientReads(client);
        console.log(
          `Client lookups (findUser, ${CONCURRENCY} in flight): ${viaClient.perSecond} req/s over ${viaClient.requests} requests, p50 ${viaClient.p50} ms, p99 ${viaClient.p99} ms`,
        );
      }
      const stream = await streamUsers(client);
      console.log(
        `Client streaming sys_user, page size ${pageSize}: ${stream.rows} rows in ${stream.pages} pages, ${stream.rowsPerSecond} rows/s, ` +
          `heap ${stream.heapBaselineMb} MB at start, peak ${stream.peakHeapMb} MB (+${stream.peakHeapAboveBaselineMb} MB), ` +
          `retained after GC at most +${stream.retainedAboveBaselineMb} MB, peak RSS ${stream.peakRssMb} MB` +
          (stream.gcExposed ? '' : ' (run with --expose-gc for a clean baseline)'),
      );
    }
  } finally {
    simulator.process.kill('SIGTERM');
    await once(simulator.process, 'exit');
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
