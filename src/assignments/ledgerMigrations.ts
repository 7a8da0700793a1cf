import type { Database } from 'better-sqlite3';
import { LedgerError } from './ledgerError';

/** Takes a ledger file from one `user_version` to the next. */
export type LedgerMigration = (db: Database) => void;

/**
 * `LEDGER_MIGRATIONS[n]` takes a file from version n to n + 1. Append new ones; never edit a released one,
 * since files in the field were made by it.
 */
export const LEDGER_MIGRATIONS: readonly LedgerMigration[] = [
  (db) =>
    db.exec(`
      CREATE TABLE assignments (
        orderId TEXT PRIMARY KEY NOT NULL,
        assignmentId TEXT NOT NULL,
        connection TEXT NOT NULL,
        resourceType TEXT NOT NULL,
        changeType TEXT NOT NULL,
        state TEXT NOT NULL,
        ticketTable TEXT,
        ticketNumber TEXT,
        ticketSysId TEXT,
        ticketState TEXT,
        detail TEXT,
        createdAt TEXT NOT NULL,
        updatedAt TEXT NOT NULL
      ) STRICT;
      CREATE INDEX assignments_by_assignment ON assignments (assignmentId, updatedAt);
      CREATE INDEX assignments_by_state ON assignments (state, updatedAt);
      CREATE INDEX assignments_by_update ON assignments (updatedAt);
      CREATE TABLE transitions (
        seq INTEGER PRIMARY KEY,
        orderId TEXT NOT NULL REFERENCES assignments (orderId),
        state TEXT NOT NULL,
        at TEXT NOT NULL,
        transition TEXT NOT NULL,
        recordedAt TEXT NOT NULL,
        UNIQUE (orderId, state)
      ) STRICT;
    `),
];

export const LEDGER_SCHEMA_VERSION = LEDGER_MIGRATIONS.length;

function versionOf(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Brings the file to the newest schema. Several processes may open a new file at once, so the version is read
 * again under the write lock and only the first one migrates.
 */
export function migrateLedger(
  db: Database,
  file: string,
  migrations: readonly LedgerMigration[] = LEDGER_MIGRATIONS,
): void {
  const target = migrations.length;
  const check = (version: number) => {
    if (version > target) {
      throw new LedgerError(
        'unsupported-version',
        file,
        `has schema version ${version}, but this connector knows versions up to ${target} (was it written by a newer connector?)`,
      );
    }
  };
  check(versionOf(db));
  if (versionOf(db) === target) return;
  db.transaction(() => {
    let version = versionOf(db);
    check(version);
    if (version === 0 && hasTables(db)) {
      throw new LedgerError('corrupt', file, 'is a SQLite database, but not an assignment ledger');
    }
    for (; version < target; version += 1) {
      migrations[version]?.(db);
      // Inside the transaction: a crash mid-migration leaves the old version and the old tables together.
      db.pragma(`user_version = ${version + 1}`);
    }
  }).immediate();
}

function hasTables(db: Database): boolean {
  return db.prepare(`SELECT 1 FROM sqlite_schema WHERE type = 'table' LIMIT 1`).get() !== undefined;
}
