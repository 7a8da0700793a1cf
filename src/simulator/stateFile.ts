import { readFileSync } from 'node:fs';
import { open, rename, rm, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { fieldKind, TABLE_NAMES, type TableName } from '../servicenow/tables';
import { isPasswordDigest } from './auth';
import type { Store, TableStore } from './store';

/**
 * The simulator's state on disk (`stateFile`), so that a restarted `npm start` still has the tickets its
 * workflows poll. Saved: every record with its system fields (sys_id, number, sys_mod_count...), each table's
 * number counter, the journals and how many directory batches were seeded. Not saved: OAuth tokens (clients get
 * new ones), request counters, faults and hibernation, which start afresh. Passwords are only ever digests.
 *
 * One JSON document, one record per line, written to a temporary file and renamed over the previous one, so a
 * crash leaves the previous state intact. Reading it back needs it whole in memory, which caps a state at about
 * 500 MB of JSON (some two and a half million memberships); a million memberships and 100,000 users make 200 MB,
 * loaded in some 8 s.
 */

const FORMAT = 'servicenow-simulator-state';
/** Rows serialized per string chunk: large enough to write efficiently, small enough to never near V8's string limit. */
const ROWS_PER_CHUNK = 10_000;
/** What a password that was never usable (written without `sysparm_input_display_value`) is saved as. */
const UNUSABLE_PASSWORD = '(unusable)';

const journalEntry = z.strictObject({
  field: z.string(),
  value: z.string(),
  created_on: z.string(),
  created_by: z.string(),
});
/** Rows as arrays of strings, checked in place: zod's array schemas copy every row, doubling a large load. */
const stringRows = z.custom<string[][]>(
  (rows) =>
    Array.isArray(rows) &&
    rows.every((row) => Array.isArray(row) && row.every((value) => typeof value === 'string')),
  'must be arrays of strings',
);
const savedTable = z.strictObject({
  fields: z.array(z.string()),
  nextNumber: z.number().int().positive(),
  rows: stringRows,
});
const savedState = z.strictObject({
  format: z.literal(FORMAT),
  version: z.literal(1),
  directoryBatches: z.number().int().min(0),
  journals: z.record(z.string(), z.array(journalEntry)),
  tables: z.partialRecord(z.enum(TABLE_NAMES), savedTable),
});
export type SavedState = z.infer<typeof savedState>;
type SavedTable = z.infer<typeof savedTable>;

/** A state file that cannot be read or written. */
export class StateFileError extends Error {
  constructor(file: string, problem: string) {
    super(`ServiceNow simulator state file ${file}: ${problem}`);
    this.name = 'StateFileError';
  }
}

/** Starting over would silently drop the file's tickets, so an unusable one stops the start; the operator decides. */
function unusable(file: string, problem: string): StateFileError {
  return new StateFileError(file, `${problem}; move it away to start with a fresh instance`);
}

/** The saved state, or undefined when the file does not exist. Throws StateFileError for anything unusable. */
export function readStateFile(file: string): SavedState | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw unusable(file, `cannot be read (${(error as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw unusable(file, `is not valid JSON (${(error as Error).message})`);
  }
  const parsed = savedState.safeParse(json);
  if (!parsed.success) {
    const [issue] = parsed.error.issues;
    const where = issue?.path.length ? issue.path.join('.') : '(top level)';
    throw unusable(file, `is not a simulator state: ${where}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

/**
 * Replaces the store's content with a saved state. Fields are matched by name, so a state saved before a
 * dictionary change still loads (a field the file lacks starts empty). Values are shared between rows as they
 * were before saving (timestamps, references): a million memberships would otherwise take twice the memory.
 */
export function restoreState(store: Store, state: SavedState, file: string): void {
  store.clear();
  const shared = new Map<string, string>();
  const share = (value: string) => shared.get(value) ?? (shared.set(value, value), value);
  for (const [name, saved] of Object.entries(state.tables) as [TableName, SavedTable][]) {
    const table = store.table(name);
    // For each dictionary field, how to take its value from a saved row. sys_ids are unique: sharing them is useless.
    const readers = table.fields.map((field): ((values: readonly string[]) => string) => {
      const source = saved.fields.indexOf(field);
      if (source < 0) return () => '';
      return field === 'sys_id' ? (values) => values[source] ?? '' : (values) => share(values[source] ?? '');
    });
    saved.rows.forEach((values, i) => {
      if (values.length !== saved.fields.length) {
        throw unusable(
          file,
          `tables.${name}.rows.${i}: ${values.length} values for ${saved.fields.length} fields`,
        );
      }
      try {
        table.restore(readers.map((read) => read(values)));
      } catch (error) {
        throw unusable(file, (error as Error).message);
      }
    });
    table.restoreNumbering(saved.nextNumber);
  }
  for (const [sysId, entries] of Object.entries(state.journals)) store.appendJournal(sysId, entries);
}

/**
 * The whole state as JSON text chunks. Synchronous, so the chunks are one consistent snapshot however long
 * writing them takes.
 */
export function serializeState(store: Store, directoryBatches: number): string[] {
  const journals = JSON.stringify(Object.fromEntries(store.allJournals()));
  const chunks = [
    `{"format":"${FORMAT}","version":1,"directoryBatches":${directoryBatches},"journals":${journals},"tables":{`,
  ];
  TABLE_NAMES.forEach((name, i) => {
    const table = store.table(name);
    const meta = `${JSON.stringify(name)}:{"fields":${JSON.stringify(table.fields)},"nextNumber":${table.numbering},"rows":[`;
    chunks.push(`${i === 0 ? '' : ','}\n${meta}`, ...rowChunks(table), ']}');
  });
  chunks.push('\n}}\n');
  return chunks;
}

function rowChunks(table: TableStore): string[] {
  const passwords = table.fields.flatMap((field, i) =>
    fieldKind(table.name, field)?.type === 'password' ? [i] : [],
  );
  const chunks: string[] = [];
  let lines: string[] = [];
  const flush = () => {
    chunks.push(`${chunks.length === 0 ? '\n' : ',\n'}${lines.join(',\n')}`);
    lines = [];
  };
  for (const row of table.inCreationOrder()) {
    const values = table.valuesOf(row);
    for (const i of passwords) values[i] = passwordAtRest(values[i] ?? '');
    lines.push(JSON.stringify(values));
    if (lines.length === ROWS_PER_CHUNK) flush();
  }
  if (lines.length > 0) flush();
  return chunks;
}

/**
 * Usable passwords are stored as digests already. Any other value is text a client wrote without
 * `sysparm_input_display_value`, which can never log in: it is saved as a marker rather than as written.
 */
function passwordAtRest(value: string): string {
  return value === '' || isPasswordDigest(value) ? value : UNUSABLE_PASSWORD;
}

/** Replaces `file` with `chunks` atomically: a reader (or a crash) sees the old file or the new one, never a mix. */
export async function writeStateFile(file: string, chunks: readonly string[]): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    // Owner-only, as the file holds the password digests.
    const handle = await open(temporary, 'w', 0o600);
    try {
      await writeFile(handle, chunks);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw new StateFileError(file, `cannot be written (${(error as Error).message})`);
  }
}

/** At least this long between saves. */
const MIN_SAVE_INTERVAL_MS = 1000;
/** And at least this many times as long as the last snapshot took, which blocked the event loop. */
const SAVE_INTERVAL_FACTOR = 10;

/**
 * Saves the state some time after it changed, never two saves at once, and a last time on close.
 *
 * The trade-off: each save rewrites the whole state from a synchronous snapshot, which is consistent but blocks
 * the event loop while it serializes: some 250 ms for 100,000 users, 2.7 s with a million memberships more. So
 * the interval between saves grows with the snapshot's cost, keeping saving below a tenth of the simulator's time
 * even after seeding a large directory. A crash loses the changes of the last interval; a clean close loses none.
 */
export class StateSaver {
  private timer: NodeJS.Timeout | undefined;
  private saving: Promise<void> = Promise.resolve();
  private closed = false;
  private intervalMs = MIN_SAVE_INTERVAL_MS;

  /** `dirty`: whether the state differs from the file already (a new file has not been written yet). */
  constructor(
    private readonly file: string,
    private readonly snapshot: () => string[],
    private readonly reportBackgroundError: (error: Error) => void,
    private dirty: boolean,
  ) {}

  /** Marks the state changed; a save follows after the interval. */
  changed(): void {
    this.dirty = true;
    if (this.timer !== undefined || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush().catch(this.reportBackgroundError);
    }, this.intervalMs);
    // A pending save never keeps the process alive; closing the simulator saves.
    this.timer.unref();
  }

  /** Saves now if anything changed since the last save, after any save in progress. */
  flush(): Promise<void> {
    const save = this.saving.then(() => this.saveIfChanged());
    // A failed save is reported to its caller; the next one still runs.
    this.saving = save.catch(() => undefined);
    return save;
  }

  /** Stops saving in the background and saves what is left. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private async saveIfChanged(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    const started = performance.now();
    const chunks = this.snapshot();
    this.intervalMs = Math.max(MIN_SAVE_INTERVAL_MS, SAVE_INTERVAL_FACTOR * (performance.now() - started));
    try {
      await writeStateFile(this.file, chunks);
    } catch (error) {
      // Still unsaved: the next change or the close tries again.
      this.dirty = true;
      throw error;
    }
  }
}
