/**
 * What a table's export needs from the outside: the runtime that drives it (a Temporal activity context in the
 * worker; tests may hand in their own) and the adapters it reads and writes through.
 */
import type { ExportHeartbeat } from '../contract/export';
import type { ServiceNowClient } from '../servicenow/client';
import type { OutputRoot } from './outputFolder';

/** What the export needs from its runtime (a Temporal activity context; tests may hand in their own). */
export interface ExportRuntime {
  /** Aborted when the activity is cancelled; passed to every ServiceNow call. */
  readonly signal: AbortSignal;
  heartbeat(details: ExportHeartbeat): void;
  /** Cancellation-aware sleep. */
  sleep(ms: number): Promise<void>;
  /** The last heartbeat details of the previous attempt, as recorded by the server (not yet validated). */
  readonly previous: unknown;
  /** True when the cancellation is a request to stop for good, not a worker shutdown or a lost attempt. */
  cancelRequested(): boolean;
  readonly log: {
    info(message: string, meta?: Record<string, unknown>): void;
    warn(message: string, meta?: Record<string, unknown>): void;
  };
  /** Decides the read bounds (see `decide`). */
  now(): Date;
  /** Heartbeats are repeated this often while a page is fetched or a rate limit waited out. */
  readonly keepAliveMs: number;
}

export interface TableExportDependencies {
  readonly client: ServiceNowClient;
  /** Absolute path of the folder of the table's cookie (from the settings only). */
  readonly cookieDirectory: string;
  /** The folder the input's `outputDirectory` must be, or lie beneath (from the settings only). */
  readonly outputRoot: OutputRoot;
}
