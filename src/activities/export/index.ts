/**
 * The export's activities: a thin shell over `src/export/` that wires Temporal's heartbeats, cancellation and
 * retries (the algorithm itself knows nothing of Temporal).
 */
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import type { ExportedTable, ExportInput, ExportPlan, ExportTableInput } from '../../contract/export';
import { InvalidExportInputError } from '../../export/errors';
import { ExportFilterError } from '../../export/fields';
import { planExport, type ResolvedExportSettings } from '../../export/plan';
import type { ExportRuntime } from '../../export/runtime';
import { exportTable } from '../../export/tableExport';
import type { ServiceNowClient } from '../../servicenow/client';
import { toActivityFailure } from '../failures';

export interface ExportActivityDependencies {
  /** A connection's export settings; throws UnknownConnectionError for a connection the settings lack. */
  readonly exportSettings: (connection: string) => ResolvedExportSettings;
  /** One client per connection. */
  readonly serviceNow: (connection: string) => ServiceNowClient;
  /** The clock that bounds reads and stamps cookies (tests move it); the system clock by default. */
  readonly now?: () => Date;
}

/** Heartbeats are repeated at least this often while a page is fetched or a rate limit is waited out. */
const MAX_KEEP_ALIVE_MS = 10_000;

/** The export's activities: `planExport` once per run, `exportTable` once per table. */
export function createExportActivities(deps: ExportActivityDependencies) {
  const now = deps.now ?? (() => new Date());
  return {
    /** Resolves the connection's export settings into one `exportTable` input per table (kept in history). */
    async planExport(input: ExportInput): Promise<ExportPlan> {
      return asExportActivity(async () => planExport(deps.exportSettings(input.connection), input));
    },

    /**
     * Exports one table to `<outputDirectory>/<connection>_<table>.csv` and writes its cookie; heartbeats an
     * `ExportHeartbeat` after every page and resumes from the last one on retry. Run it with a heartbeat timeout.
     */
    async exportTable(input: ExportTableInput): Promise<ExportedTable> {
      return asExportActivity(async () => {
        const context = Context.current();
        const { cookieDirectory, outputDirectory } = deps.exportSettings(input.connection);
        return exportTable(
          input,
          {
            // Background in the call budget; the export waits out 429s itself, with its progress in heartbeats.
            client: deps
              .serviceNow(input.connection)
              .withPriority('background', { waitOutRateLimits: false }),
            cookieDirectory,
            outputRoot: { folder: outputDirectory, connection: input.connection },
          },
          runtimeOf(context, now),
        );
      });
    },
  };
}

function runtimeOf(context: Context, now: () => Date): ExportRuntime {
  const heartbeatTimeoutMs = context.info.heartbeatTimeoutMs;
  return {
    signal: context.cancellationSignal,
    heartbeat: (details) => context.heartbeat(details),
    sleep: (ms) => context.sleep(ms),
    previous: context.info.heartbeatDetails,
    cancelRequested: () => context.cancellationDetails?.cancelRequested ?? false,
    log: context.log,
    now,
    keepAliveMs:
      heartbeatTimeoutMs === undefined || heartbeatTimeoutMs <= 0
        ? MAX_KEEP_ALIVE_MS
        : Math.max(200, Math.min(MAX_KEEP_ALIVE_MS, Math.floor(heartbeatTimeoutMs / 3))),
  };
}

/**
 * Like `asActivity`, but lets a cancellation through as it is (Temporal reports it as cancelled, or as a failed
 * attempt on worker shutdown) and makes bad input and filters non-retryable.
 */
async function asExportActivity<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof CancelledFailure) throw error;
    if (error instanceof InvalidExportInputError || error instanceof ExportFilterError) {
      throw ApplicationFailure.create({ type: error.name, message: error.message, nonRetryable: true });
    }
    throw toActivityFailure(error);
  }
}
