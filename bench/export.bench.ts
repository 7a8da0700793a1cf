/**
 * `npm run bench:export`: figures for the CSV export, printed, never asserted.
 *
 * A complete export of sys_user and sys_user_grmember from the simulator, seeded with 100,000 users in 1,000 groups
 * and 10 memberships each (1,000,000 memberships), through the `exportTable` activity's own code (the activity
 * factory run in Temporal's MockActivityEnvironment: paging, CSV writing, key file, heartbeats, rename, cookie), so
 * that the figures measure the connector, not a Temporal server. Per table: rows per second, file size, and the
 * export process's heap and RSS (peak, and what stays after a full collection).
 *
 * The simulator runs as a child process, so that its store and its event loop are not counted as ours.
 * Scale down with BENCH_EXPORT_USERS, BENCH_EXPORT_MEMBERSHIPS_PER_USER, BENCH_EXPORT_GROUPS; the page size
 * (`ResponseSizeLimit`) is BENCH_EXPORT_PAGE_SIZE (default 1000, the connector's default).
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BENCH_PASSWORD, startSimulatorProcess } from './simulatorProcess';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createExportActivities } from '../src/activities/export';
import { resolveExportSettings } from '../src/platform/exportSettings';
import { parseSettings } from '../src/config/load';
import type {
  ExportedTable,
  ExportHeartbeat,
  ExportInput,
  ExportPlan,
  ExportTableInput,
} from '../src/contract/export';
import { serviceNowClients } from '../src/platform/adapters';

const USERS = wholeNumber('BENCH_EXPORT_USERS', 100_000);
const MEMBERSHIPS_PER_USER = wholeNumber('BENCH_EXPORT_MEMBERSHIPS_PER_USER', 10);
const GROUPS = wholeNumber('BENCH_EXPORT_GROUPS', 1_000);
const PAGE_SIZE = wholeNumber('BENCH_EXPORT_PAGE_SIZE', 1_000);
const TABLES = ['sys_user', 'sys_user_grmember'] as const;
const CONNECTION = 'Bench';
/** How often memory is sampled while a table is exported (heartbeats sample it too). */
const SAMPLE_MS = 50;

function wholeNumber(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be a whole number`);
  return value;
}

async function seed(url: string): Promise<{ took: number; memberships: number }> {
  const started = performance.now();
  const response = await fetch(`${url}/sim/admin/seed`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Basic ${Buffer.from(`admin:${BENCH_PASSWORD}`).toString('base64')}`,
    },
    body: JSON.stringify({
      users: USERS,
      groups: GROUPS,
      membershipsPerUser: MEMBERSHIPS_PER_USER,
      roles: 0,
    }),
    signal: AbortSignal.timeout(30 * 60_000),
  });
  if (!response.ok) throw new Error(`seed: ${response.status} ${await response.text()}`);
  const { result } = (await response.json()) as { result: { memberships: number } };
  return { took: performance.now() - started, memberships: result.memberships };
}

/** The activity's warnings on one line each (seeded rows share one sys_updated_on: the overlap window is full). */
const activityLogger = new DefaultLogger('WARN', (entry) => {
  const table = typeof entry.meta?.table === 'string' ? ` (${entry.meta.table})` : '';
  console.log(`  activity ${entry.level.toLowerCase()}: ${entry.message}${table}`);
});

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

interface TableFigures {
  readonly table: string;
  readonly rows: number;
  readonly seconds: number;
  readonly rowsPerSecond: number;
  readonly fileMb: string;
  readonly heartbeats: number;
  readonly heapBaselineMb: string;
  readonly peakHeapMb: string;
  readonly peakHeapAboveBaselineMb: string;
  readonly retainedAboveBaselineMb: string;
  readonly rssBaselineMb: string;
  readonly peakRssMb: string;
}

async function exportOne(
  activities: ReturnType<typeof createExportActivities>,
  input: ExportTableInput,
  gc: (() => void) | undefined,
): Promise<TableFigures> {
  gc?.();
  const baseline = process.memoryUsage();
  let peakHeap = baseline.heapUsed;
  let peakRss = baseline.rss;
  const sample = () => {
    const now = process.memoryUsage();
    peakHeap = Math.max(peakHeap, now.heapUsed);
    peakRss = Math.max(peakRss, now.rss);
  };
  const env = new MockActivityEnvironment(
    { heartbeatTimeoutMs: 30_000, activityType: 'exportTable' },
    { logger: activityLogger },
  );
  let heartbeats = 0;
  let lastReport = performance.now();
  env.on('heartbeat', (details: ExportHeartbeat) => {
    heartbeats++;
    sample();
    if (performance.now() - lastReport >= 5_000) {
      lastReport = performance.now();
      const total = details.totalEstimate === undefined ? '' : ` of ${details.totalEstimate}`;
      console.log(`  ${input.table}: ${details.rows}${total} rows`);
    }
  });
  const timer = setInterval(sample, SAMPLE_MS);
  const started = performance.now();
  let result: ExportedTable;
  try {
    const exportTable = (value: ExportTableInput) => activities.exportTable(value);
    result = await env.run<[ExportTableInput], ExportedTable, typeof exportTable>(exportTable, input);
  } finally {
    clearInterval(timer);
  }
  const seconds = (performance.now() - started) / 1000;
  sample();
  gc?.();
  const retained = process.memoryUsage().heapUsed;
  return {
    table: input.table,
    rows: result.rows,
    seconds,
    rowsPerSecond: Math.round(result.rows / seconds),
    fileMb: mb(statSync(result.file).size),
    heartbeats,
    heapBaselineMb: mb(baseline.heapUsed),
    peakHeapMb: mb(peakHeap),
    peakHeapAboveBaselineMb: mb(peakHeap - baseline.heapUsed),
    retainedAboveBaselineMb: mb(Math.max(0, retained - baseline.heapUsed)),
    rssBaselineMb: mb(baseline.rss),
    peakRssMb: mb(peakRss),
  };
}

async function main(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'snow-ticket-export-bench-'));
  // A million memberships and their indexes: more than the default old space on small machines.
  const simulator = await startSimulatorProcess(['--max-old-space-size=4096']);
  try {
    console.log(
      `Seeding ${USERS} users, ${GROUPS} groups, ${MEMBERSHIPS_PER_USER} memberships per user into the simulator...`,
    );
    const seeded = await seed(simulator.url);
    console.log(`Seeded ${seeded.memberships} memberships in ${(seeded.took / 1000).toFixed(1)} s`);

    const settings = parseSettings(
      {
        Connections: {
          [CONNECTION]: {
            Server: `${simulator.url}/api/now/table`,
            Login: 'admin',
            Password: BENCH_PASSWORD,
            ResponseSizeLimit: String(PAGE_SIZE),
          },
        },
        TicketConnector: {
          DataDirectory: dataDir,
          Exports: { [CONNECTION]: { OutputDirectory: path.join(dataDir, 'exports') } },
        },
      },
      'benchmark settings',
    );
    const activities = createExportActivities({
      exportSettings: (connection) => resolveExportSettings(settings, connection),
      serviceNow: serviceNowClients(settings),
    });
    const planExport = (input: ExportInput) => activities.planExport(input);
    const plan = await new MockActivityEnvironment().run<[ExportInput], ExportPlan, typeof planExport>(
      planExport,
      {
        connection: CONNECTION,
        complete: true,
        tables: [...TABLES],
      },
    );

    const figures: TableFigures[] = [];
    for (const input of plan.tables) {
      console.log(`Exporting ${input.table} (complete, page size ${PAGE_SIZE})...`);
      const table = await exportOne(activities, input, gc);
      figures.push(table);
      console.log(
        `${table.table}: ${table.rows} rows in ${table.seconds.toFixed(1)} s, ${table.rowsPerSecond} rows/s, ` +
          `file ${table.fileMb} MB, ${table.heartbeats} heartbeats; heap ${table.heapBaselineMb} MB at start, ` +
          `peak ${table.peakHeapMb} MB (+${table.peakHeapAboveBaselineMb} MB), retained after GC ` +
          `+${table.retainedAboveBaselineMb} MB; RSS ${table.rssBaselineMb} MB at start, peak ${table.peakRssMb} MB` +
          (gc === undefined ? ' (run with --expose-gc for a clean baseline)' : ''),
      );
    }
    const rows = figures.reduce((sum, table) => sum + table.rows, 0);
    const seconds = figures.reduce((sum, table) => sum + table.seconds, 0);
    console.log(
      `Both tables: ${rows} rows in ${seconds.toFixed(1)} s, ${Math.round(rows / seconds)} rows/s; ` +
        `peak RSS ${Math.max(...figures.map((table) => Number(table.peakRssMb))).toFixed(1)} MB ` +
        `(Node ${process.version}, ${process.platform}/${process.arch})`,
    );
  } finally {
    simulator.process.kill('SIGTERM');
    await once(simulator.process, 'exit');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
