/**
 * Shared by the export tests: a strict RFC 4180 reader, settings against a simulator, direct store reads, and the
 * activities run in Temporal's activity harness.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger, type LogEntry } from '@temporalio/worker';
import { createExportActivities } from '../../src/activities/export';
import { resolveExportSettings } from '../../src/platform/exportSettings';
import { parseSettings } from '../../src/config/load';
import type { SettingsFile } from '../../src/config/schema';
import type {
  ExportedTable,
  ExportHeartbeat,
  ExportInput,
  ExportTableInput,
  IdentityTable,
} from '../../src/contract/export';
import { planExport } from '../../src/export/plan';
import { serviceNowClients } from '../../src/platform/adapters';
import type { SimulatorHandle } from '../../src/simulator/server';
import { CONNECTION, simulatorConnection } from './provisioning';

export { CONNECTION };

/**
 * Parses RFC 4180 text strictly: records end with CRLF (the last one too), a quoted field may hold commas, CR, LF
 * and doubled quotes, an unquoted one none of them. Anything else fails the test.
 */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let index = 0;
  while (index < text.length) {
    let field = '';
    if (text[index] === '"') {
      index++;
      for (;;) {
        const quote = text.indexOf('"', index);
        assert.ok(quote >= 0, `unterminated quoted field at ${index}`);
        field += text.slice(index, quote);
        if (text[quote + 1] === '"') {
          field += '"';
          index = quote + 2;
        } else {
          index = quote + 1;
          break;
        }
      }
    } else {
      const end = /[,\r\n"]/g;
      end.lastIndex = index;
      const match = end.exec(text);
      const stop = match === null ? text.length : match.index;
      field = text.slice(index, stop);
      assert.notEqual(text[stop], '"', `a quote inside an unquoted field at ${stop}`);
      index = stop;
    }
    record.push(field);
    if (text[index] === ',') {
      index++;
      continue;
    }
    assert.equal(text.slice(index, index + 2), '\r\n', `a record must end with CRLF (at ${index})`);
    index += 2;
    records.push(record);
    record = [];
  }
  return records;
}

export interface CsvFile {
  readonly header: string[];
  readonly rows: Record<string, string>[];
  readonly text: string;
}

export function readCsv(file: string): CsvFile {
  const text = readFileSync(file, 'utf8');
  assert.ok(!text.startsWith('\uFEFF'), 'no byte order mark');
  const [header, ...records] = parseCsv(text);
  assert.ok(header !== undefined, 'a header row');
  for (const record of records) assert.equal(record.length, header.length, 'every record has every column');
  return {
    header,
    rows: records.map((record) => Object.fromEntries(header.map((name, i) => [name, record[i] ?? '']))),
    text,
  };
}

/** The sys_ids of the rows, asserting that none appears twice. */
export function uniqueIds(rows: readonly Record<string, string>[]): Set<string> {
  const ids = rows.map((row) => row.sys_id ?? '');
  const unique = new Set(ids);
  const repeated = ids.filter((id, index) => ids.indexOf(id) !== index);
  assert.deepEqual(repeated, [], 'no row appears twice');
  return unique;
}

/** Every record of a table as the simulator stores it (reference fields as sys_ids). */
export function storeRows(sim: SimulatorHandle, table: IdentityTable): Record<string, string>[] {
  const store = sim.instance.store.table(table);
  return [...store.inCreationOrder()].map((row) => store.toValues(row));
}

/**
 * A stored value as an export writes it with NeutralizeFormulas on (the default): OWASP's rule, restated here so
 * that the tests have an oracle of their own.
 */
export function formulaSafe(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

/**
 * Checks a CSV file against the store row by row: the same set of sys_ids, no duplicates, and every column equal
 * to the stored value (with formulas neutralised, unless `raw`).
 */
export function assertSameRows(
  csv: CsvFile,
  expected: readonly Record<string, string>[],
  fields: readonly string[],
  { raw = false }: { readonly raw?: boolean } = {},
): void {
  assert.deepEqual(csv.header, [...fields]);
  const ids = uniqueIds(csv.rows);
  const wanted = new Map(expected.map((row) => [row.sys_id ?? '', row]));
  const missing = [...wanted.keys()].filter((id) => !ids.has(id));
  const extra = [...ids].filter((id) => !wanted.has(id));
  assert.deepEqual(
    { missing, extra },
    { missing: [], extra: [] },
    'the file holds exactly the expected rows',
  );
  for (const row of csv.rows) {
    const stored = wanted.get(row.sys_id ?? '') ?? {};
    for (const field of fields) {
      const value = stored[field] ?? '';
      assert.equal(row[field], raw ? value : formulaSafe(value), `${row.sys_id} ${field}`);
    }
  }
}

/** Settings for one simulator connection; `exports` is `TicketConnector.Exports.Sim`. */
export function exportTestSettings(
  sim: SimulatorHandle,
  dataDir: string,
  exports: Record<string, unknown> = {},
  connection: Record<string, unknown> = {},
): SettingsFile {
  return parseSettings(
    {
      Connections: simulatorConnection(sim, { ResponseSizeLimit: '50', ...connection }),
      TicketConnector: { DataDirectory: dataDir, Exports: { [CONNECTION]: exports } },
    },
    'export test settings',
  );
}

/** Files in a folder, hidden temporary files included. */
export function filesIn(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

export function tempFilesIn(dir: string): string[] {
  return filesIn(dir).filter((name) => name.endsWith('.tmp'));
}

/** A logger that keeps what activities log, for assertions, and prints nothing. */
export function collectingLogger(): { logger: DefaultLogger; entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  return { logger: new DefaultLogger('DEBUG', (entry) => entries.push(entry)), entries };
}

/** Table API reads of a table in the simulator's request log (the latest 1,000 requests), URLs decoded. */
export function tableReads(
  sim: SimulatorHandle,
  table: string,
): { query: string; status: number | string }[] {
  return sim.instance.stats
    .latest(1000)
    .filter((entry) => entry.method === 'GET' && entry.url.startsWith(`/api/now/table/${table}?`))
    .map((entry) => ({
      query: new URL(entry.url, sim.url).searchParams.get('sysparm_query') ?? '',
      status: entry.status,
    }));
}

/** What one run of the exportTable activity did. */
export interface ExportTableOutcome {
  readonly result?: ExportedTable;
  readonly error?: unknown;
  readonly heartbeats: ExportHeartbeat[];
  /** Log lines: message and meta as JSON. */
  readonly logs: string[];
}

/** The result of a run that must have succeeded (its error fails the test otherwise). */
export function ok(outcome: ExportTableOutcome): ExportedTable {
  if (outcome.result === undefined) throw outcome.error;
  return outcome.result;
}

/**
 * The export activities for `settings`, run one table at a time in Temporal's activity harness: `previous` are the
 * heartbeat details the server would hand a retry (`onHeartbeat` may cancel through `env`); `now` is the clock
 * that bounds reads.
 */
export function exportTableRunner(settings: SettingsFile, now?: () => Date) {
  const activities = createExportActivities({
    exportSettings: (connection) => resolveExportSettings(settings, connection),
    serviceNow: serviceNowClients(settings),
    now,
  });
  return {
    plan: (input: Omit<ExportInput, 'connection'>) =>
      planExport(resolveExportSettings(settings, CONNECTION), { connection: CONNECTION, ...input }),
    run: async (
      input: ExportTableInput,
      options: {
        previous?: ExportHeartbeat;
        onHeartbeat?: (details: ExportHeartbeat, env: MockActivityEnvironment) => void;
      } = {},
    ): Promise<ExportTableOutcome> => {
      const { logger, entries } = collectingLogger();
      const env = new MockActivityEnvironment(
        {
          heartbeatTimeoutMs: 30_000,
          heartbeatDetails: options.previous,
          attempt: options.previous === undefined ? 1 : 2,
        },
        { logger },
      );
      const heartbeats: ExportHeartbeat[] = [];
      env.on('heartbeat', (details: ExportHeartbeat) => {
        heartbeats.push(details);
        options.onHeartbeat?.(details, env);
      });
      const logs = () => entries.map((entry) => `${entry.message} ${JSON.stringify(entry.meta ?? {})}`);
      try {
        const result: ExportedTable = await env.run(
          (arg: ExportTableInput) => activities.exportTable(arg),
          input,
        );
        return { result, heartbeats, logs: logs() };
      } catch (error) {
        return { error, heartbeats, logs: logs() };
      }
    },
  };
}
