/**
 * The export's public contract: the workflow's input and result, the activity's input and result, and the
 * heartbeat details that progress displays read (`handle.describe()` -> pending activities -> heartbeat details).
 *
 * This module is imported by workflow code: types and constants only, no Node built-ins, no I/O.
 */
import type { IDENTITY_TABLES } from '../servicenow/tables';

export type IdentityTable = (typeof IDENTITY_TABLES)[number];

/**
 * `complete`: every row (matching the table's filter). `incremental`: rows added or changed since the last
 * successful export of the table, by `sys_updated_on`.
 */
export type ExportMode = 'complete' | 'incremental';

/** The argument of `exportWorkflow`. */
export interface ExportInput {
  /** A connection identifier from `Connections`. */
  readonly connection: string;
  /** True: every table is exported completely, whatever its cookie says. Default: `Exports.<conn>.Complete`. */
  readonly complete?: boolean;
  /** A subset of the identity tables, in the order to export them. Default: `Exports.<conn>.Tables`. */
  readonly tables?: readonly string[];
  /**
   * Where the CSV files go, on the worker's machine: `Exports.<conn>.OutputDirectory` (the default) or a folder
   * beneath it, symbolic links resolved; anything else fails the run (`InvalidExportInputError`). Absolute paths
   * are best; a relative one is resolved against the worker's `DataDirectory`.
   */
  readonly outputDirectory?: string;
}

/** The argument of the `exportTable` activity: everything about one table, fixed in the workflow's history. */
export interface ExportTableInput {
  readonly connection: string;
  readonly table: IdentityTable;
  /** The mode asked for; `incremental` falls back to `complete` when the table has no usable cookie. */
  readonly mode: ExportMode;
  /** Absolute path of the folder the CSV file is written to: the connection's OutputDirectory or beneath it. */
  readonly outputDirectory: string;
  /** CSV columns, in order. */
  readonly fields: readonly string[];
  /** The encoded query of the table's filter (the part after `table#`), when one is configured. */
  readonly filter?: string;
  /** How far before the watermark an incremental read starts. */
  readonly overlapMs: number;
  /**
   * Cells starting with `=`, `+`, `-`, `@`, a tab or a CR get a leading `'` (OWASP's rule against formula
   * injection). From `Exports.<conn>.NeutralizeFormulas`; absent (plans of earlier releases): true.
   */
  readonly neutralizeFormulas?: boolean;
}

/** What one table's export produced. */
export interface ExportedTable {
  readonly table: IdentityTable;
  /** Absolute path of the CSV file (`<connection>_<table>.csv`). */
  readonly file: string;
  /** Data rows written (the header not counted). */
  readonly rows: number;
  /** The mode actually used. */
  readonly mode: ExportMode;
  /** The new watermark (`YYYY-MM-DD HH:MM:SS`, UTC, as ServiceNow writes `sys_updated_on`) kept in the cookie. */
  readonly watermark?: string;
  /** Rows an incremental read met again in the overlap window and left out, as the previous run exported them. */
  readonly skippedAsDuplicates: number;
}

/** The result of `exportWorkflow`. */
export interface ExportResult {
  readonly connection: string;
  /** The mode asked for; each table says which mode it actually used. */
  readonly mode: ExportMode;
  readonly tables: readonly ExportedTable[];
  /** ISO 8601. */
  readonly startedAt: string;
  readonly finishedAt: string;
}

/** The position of an export in keyset order: the last row read (written or skipped). */
export interface ExportCursor {
  readonly sysId: string;
  readonly updatedOn: string;
}

/**
 * Heartbeat details of a running `exportTable` activity. Progress displays read `table`, `rows`,
 * `totalEstimate`, `bytes` and `waitingUntil`; the activity itself reads the rest to resume after a crash.
 */
export interface ExportHeartbeat {
  readonly table: IdentityTable;
  /** Rows written to the temporary file so far. */
  readonly rows: number;
  /**
   * Rows expected in all, from ServiceNow's `X-Total-Count` (rows written + rows still to read, duplicates of
   * an incremental overlap included); absent until the first page.
   */
  readonly totalEstimate?: number;
  /** The last row read; null before the first page. */
  readonly cursor: ExportCursor | null;
  /** Bytes of the temporary file that hold the header and `rows` rows. */
  readonly bytes: number;
  /** Absolute path of the temporary file (`.<connection>_<table>.csv.<random>.tmp` beside the final file). */
  readonly tempFile: string;
  /** The mode in use (decided by the first attempt and kept by the next ones). */
  readonly mode: ExportMode;
  readonly skippedAsDuplicates: number;
  /** Set while the activity waits out a ServiceNow rate limit (429): when it will ask again (ISO 8601). */
  readonly waitingUntil?: string;
  /** The activity's own bookkeeping for resuming; readers should not depend on it. */
  readonly resume: ExportResumeState;
}

export interface ExportResumeState {
  /** When the first attempt started reading (`YYYY-MM-DD HH:MM:SS`, worker clock). */
  readonly readStartedAt: string;
  /** Incremental: rows changed at or after this time are read. */
  readonly since?: string;
  /** Incremental: rows changed at or after this time are left to the next run (so none is read twice). */
  readonly until?: string;
  /** The watermark of the cookie the run started from, if any. */
  readonly previousWatermark?: string;
  /** Highest `sys_updated_on` written so far. */
  readonly maxUpdatedOn?: string;
  /** Bytes of the key file (`<tempFile minus .tmp>.keys.tmp`) that belong to the rows written. */
  readonly keysBytes: number;
  /** Whether the rows written so far have formulas neutralised (absent in heartbeats of earlier releases: no). */
  readonly neutralizeFormulas?: boolean;
}

export type TableExportState = 'pending' | 'running' | 'done' | 'failed';

/** One table as the `progress` query reports it. */
export interface TableProgress {
  readonly table: IdentityTable;
  readonly state: TableExportState;
  /** The activity id of the table's export, to find its heartbeat among the workflow's pending activities. */
  readonly activityId: string;
  /** Set once the table is done. */
  readonly result?: ExportedTable;
  /** Set when the table failed. */
  readonly error?: string;
}

/** The answer of the `progress` query. Live row counts are in the running activity's heartbeat details. */
export interface ExportProgress {
  readonly connection: string;
  readonly mode: ExportMode;
  readonly phase: 'planning' | 'exporting' | 'done' | 'failed';
  readonly tables: readonly TableProgress[];
  readonly startedAt: string;
  readonly finishedAt?: string;
}

/** What `planExport` resolves from the worker's settings: one activity input per table, in order. */
export interface ExportPlan {
  readonly connection: string;
  readonly mode: ExportMode;
  readonly tables: readonly ExportTableInput[];
}

/** The activity id of a table's export within the workflow. */
export function exportActivityId(table: string): string {
  return `export:${table}`;
}
