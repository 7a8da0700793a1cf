import Database from 'better-sqlite3';
import type { ConnectorState } from '../../src/contract/states';

/**
 * The worker's SQLite assignment ledger, read-only (WAL lets it read while the worker writes): when each order's
 * transition reached the ledger (`recordedAt`, the worker's clock, on this machine) and which ticket it names.
 */
export class LedgerReader {
  private db: Database.Database | undefined;

  constructor(readonly file: string) {}

  /** Orders that reached `state`. */
  count(state: ConnectorState): number {
    return this.use()
      .prepare('SELECT count(*) FROM transitions WHERE state = ?')
      .pluck()
      .get(state) as number;
  }

  /** Order id → epoch ms at which `state` was recorded, oldest first. */
  recordedAt(state: ConnectorState): Map<string, number> {
    const rows = this.use()
      .prepare('SELECT orderId, recordedAt FROM transitions WHERE state = ? ORDER BY recordedAt')
      .all(state) as { orderId: string; recordedAt: string }[];
    return new Map(rows.map((row) => [row.orderId, Date.parse(row.recordedAt)]));
  }

  /** Order id → the number of its ticket. */
  ticketNumbers(): Map<string, string> {
    const rows = this.use()
      .prepare('SELECT orderId, ticketNumber FROM assignments WHERE ticketNumber IS NOT NULL')
      .all() as { orderId: string; ticketNumber: string }[];
    return new Map(rows.map((row) => [row.orderId, row.ticketNumber]));
  }

  close(): void {
    this.db?.close();
    this.db = undefined;
  }

  /** Opened on first use: the worker creates the file when it starts. */
  private use(): Database.Database {
    this.db ??= new Database(this.file, { readonly: true, fileMustExist: true });
    return this.db;
  }
}
