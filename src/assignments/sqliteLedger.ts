import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { describeIssues } from '../contract/order';
import { CONNECTOR_STATES } from '../contract/states';
import {
  isFinalState,
  type AssignmentQuery,
  type AssignmentTransition,
  type AssignmentView,
  type QueryableAssignmentStore,
  type RecordResult,
} from './store';
import { LedgerError, ledgerFailure } from './ledgerError';
import { migrateLedger } from './ledgerMigrations';
import { toRow, toTransition, toView, type AssignmentRow } from './ledgerRows';
import { checkTransition } from './transitionSchema';

export interface LedgerOptions {
  /** How long a call waits for another connection's write lock before failing (default 5 s). */
  readonly busyTimeoutMs?: number;
  /** Fail with a LedgerError instead of creating a missing file and its folders (for read-only tools). */
  readonly mustExist?: boolean;
  /** The clock for `recordedAt`, the time a transition reached the ledger. */
  readonly now?: () => Date;
}

export const DEFAULT_LIST_LIMIT = 100;
export const MAX_LIST_LIMIT = 10_000;

const querySchema = z
  .strictObject({
    state: z.enum(CONNECTOR_STATES, { error: `must be one of ${CONNECTOR_STATES.join(', ')}` }).optional(),
    connection: z.string().min(1, 'must not be empty').optional(),
    assignmentId: z.string().min(1, 'must not be empty').optional(),
    limit: z
      .number({ error: 'must be a number' })
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(MAX_LIST_LIMIT, `must be at most ${MAX_LIST_LIMIT}`)
      .default(DEFAULT_LIST_LIMIT),
  })
  .default({ limit: DEFAULT_LIST_LIMIT });

/**
 * The embedded ledger: one SQLite file holding, per order, the assignment's current state and every
 * transition that led to it.
 *
 * Rules, per order (one workflow):
 * - `(orderId, state)` is recorded once; recording it again is a no-op answering `applied: false`.
 * - No backward move: once the order is in a final state (Executed, Verified, Errored), a `Transmitted` is
 *   ignored (`applied: false`, not kept in the history).
 * - A different final state after a final state is recorded and becomes the current state: the latest
 *   recorded final wins, since an operator may force a result. Each state is still recorded only once.
 * - The row keeps the ticket it last heard of and the detail of the transition that set its state.
 *
 * WAL mode lets a CLI read while the worker writes; writers in several processes wait for each other up to
 * the busy timeout. Times are stored as UTC ISO 8601 text, so they sort as text.
 */
export class SqliteLedger implements QueryableAssignmentStore {
  private db: Database.Database | undefined;
  private readonly busyTimeoutMs: number;
  private readonly now: () => Date;

  constructor(
    readonly file: string,
    options: LedgerOptions = {},
  ) {
    this.busyTimeoutMs = options.busyTimeoutMs ?? 5_000;
    this.now = options.now ?? (() => new Date());
    this.db = this.open(options.mustExist ?? false);
  }

  async record(transition: AssignmentTransition): Promise<RecordResult> {
    const checked = checkTransition(transition);
    if (!checked.ok) throw new LedgerError('invalid-input', this.file, checked.problems.join('; '));
    // IMMEDIATE takes the write lock up front: a read-then-write transaction in WAL mode fails at once with
    // SQLITE_BUSY_SNAPSHOT if another process wrote in between, instead of waiting for the busy timeout.
    return this.use((db) => db.transaction(() => this.apply(db, checked.transition)).immediate());
  }

  async list(query?: AssignmentQuery): Promise<AssignmentView[]> {
    const parsed = querySchema.safeParse(query);
    if (!parsed.success) {
      throw new LedgerError('invalid-input', this.file, describeIssues(parsed.error, 'query').join('; '));
    }
    const { limit, ...filters } = parsed.data;
    // Column names come from the schema's keys, never from the caller; values are bound.
    const where = Object.entries(filters)
      .filter(([, value]) => value !== undefined)
      .map(([column]) => `${column} = @${column}`);
    const sql =
      `SELECT * FROM assignments ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`} ` +
      'ORDER BY updatedAt DESC, rowid DESC LIMIT @limit';
    return this.use((db) =>
      db
        .prepare(sql)
        .all({ ...filters, limit })
        .map((row) => toView(row, this.file)),
    );
  }

  async history(orderId: string): Promise<AssignmentTransition[]> {
    if (typeof orderId !== 'string' || orderId.trim() === '') {
      throw new LedgerError('invalid-input', this.file, 'history needs an order id');
    }
    return this.use((db) =>
      db
        .prepare('SELECT transition FROM transitions WHERE orderId = ? ORDER BY seq')
        .pluck()
        .all(orderId.trim())
        .map((text) => toTransition(text, orderId, this.file)),
    );
  }

  async close(): Promise<void> {
    const db = this.db;
    this.db = undefined;
    db?.close();
  }

  private open(mustExist: boolean): Database.Database {
    let db: Database.Database | undefined;
    try {
      if (!mustExist) mkdirSync(path.dirname(this.file), { recursive: true });
      db = new Database(this.file, { fileMustExist: mustExist, timeout: this.busyTimeoutMs });
      // The first statement reads the file header: a file that is not SQLite fails here, with SQLITE_NOTADB.
      db.pragma('journal_mode = WAL');
      // A recorded transition completes an activity that will not be retried: it must survive a power cut.
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      migrateLedger(db, this.file);
      return db;
    } catch (error) {
      db?.close();
      throw ledgerFailure(error, this.file, this.busyTimeoutMs);
    }
  }

  private use<T>(action: (db: Database.Database) => T): T {
    if (this.db === undefined) throw new LedgerError('closed', this.file, 'is closed');
    try {
      return action(this.db);
    } catch (error) {
      throw ledgerFailure(error, this.file, this.busyTimeoutMs);
    }
  }

  private apply(db: Database.Database, transition: AssignmentTransition): RecordResult {
    const found: unknown = db.prepare('SELECT * FROM assignments WHERE orderId = ?').get(transition.orderId);
    const current = found === undefined ? undefined : toView(found, this.file);
    if (current !== undefined) {
      this.checkSameOrder(current, transition);
      if (isFinalState(current.state) && !isFinalState(transition.state)) return { applied: false };
    }
    const next: AssignmentView = {
      orderId: transition.orderId,
      assignmentId: transition.assignmentId,
      connection: transition.connection,
      resourceType: transition.resourceType,
      changeType: transition.changeType,
      state: transition.state,
      ticket: transition.ticket ?? current?.ticket,
      detail: transition.detail,
      createdAt: current?.createdAt ?? transition.at,
      updatedAt: transition.at,
    };
    if (current === undefined) {
      db.prepare(
        `INSERT INTO assignments (orderId, assignmentId, connection, resourceType, changeType, state, ticketTable,
           ticketNumber, ticketSysId, ticketState, detail, createdAt, updatedAt)
         VALUES (@orderId, @assignmentId, @connection, @resourceType, @changeType, @state, @ticketTable,
           @ticketNumber, @ticketSysId, @ticketState, @detail, @createdAt, @updatedAt)`,
      ).run(toRow(next));
    }
    const inserted = db
      .prepare(
        `INSERT INTO transitions (orderId, state, at, transition, recordedAt) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (orderId, state) DO NOTHING`,
      )
      .run(
        transition.orderId,
        transition.state,
        transition.at,
        JSON.stringify(transition),
        this.now().toISOString(),
      );
    if (inserted.changes === 0) return { applied: false };
    if (current !== undefined) {
      db.prepare(
        `UPDATE assignments SET state = @state, ticketTable = @ticketTable, ticketNumber = @ticketNumber,
          ticketSysId = @ticketSysId, ticketState = @ticketState, detail = @detail, updatedAt = @updatedAt
         WHERE orderId = @orderId`,
      ).run(toRow(next) satisfies AssignmentRow);
    }
    return { applied: true };
  }

  /** An order is one assignment change: a transition saying otherwise is a bug upstream, not an update. */
  private checkSameOrder(current: AssignmentView, transition: AssignmentTransition): void {
    const fields = ['assignmentId', 'connection', 'resourceType', 'changeType'] as const;
    const differing = fields.filter((field) => current[field] !== transition[field]);
    if (differing.length > 0) {
      throw new LedgerError(
        'conflict',
        this.file,
        `order ${JSON.stringify(transition.orderId)} was recorded with another ${differing.join(', ')}; ` +
          `refusing the ${transition.state} transition`,
      );
    }
  }
}

/** Opens (creating it and its folders unless `mustExist`) and migrates the ledger file. */
export function openLedger(file: string, options: LedgerOptions = {}): SqliteLedger {
  return new SqliteLedger(path.resolve(file), options);
}
