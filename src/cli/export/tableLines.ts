import { tableActivity, type ExportSnapshot } from '../../client/exportProgress';
import type { TableExportState } from '../../contract/export';

/** What the progress views show of each table of a followed export, and its rows per second. */

/** What the displays show of one table. */
export interface TableLine {
  readonly table: string;
  readonly state: TableExportState;
  readonly rows: number;
  /** Expected rows: the heartbeat's estimate, or the rows of a finished table. */
  readonly total?: number;
  /** Rows per second: recent while running, overall once done (when the run was followed). */
  readonly rate?: number;
  readonly mode?: string;
  readonly attempt: number;
  /** Set while the activity waits out ServiceNow's rate limit (429), or the next attempt after a failed one. */
  readonly waitingUntil?: Date;
  readonly waitingFor?: 'rate limit' | 'retry';
  readonly lastFailure?: string;
  readonly error?: string;
}

/** Rows per second of each table, from the heartbeats' own times (the SDK sends them throttled). */
export class RateMeter {
  private readonly samples = new Map<string, { at: number; rows: number }[]>();
  private readonly firstSeen = new Map<string, { at: number; rows: number }>();
  private readonly finished = new Map<string, number>();

  observe(table: string, rows: number, at: number): void {
    const samples = this.samples.get(table) ?? [];
    const last = samples.at(-1);
    if (last !== undefined && last.at === at) return;
    if (last !== undefined && rows < last.rows) samples.length = 0; // a retry that started over
    samples.push({ at, rows });
    // A window of 15 s, but never fewer than two samples: heartbeats may be further apart than that.
    while (samples.length > 2 && at - (samples[0]?.at ?? at) > 15_000) samples.shift();
    this.samples.set(table, samples);
    if (!this.firstSeen.has(table)) this.firstSeen.set(table, { at, rows });
  }

  current(table: string): number | undefined {
    const samples = this.samples.get(table) ?? [];
    const first = samples[0];
    const last = samples.at(-1);
    if (first === undefined || last === undefined || last.at - first.at < 1_000) return undefined;
    return ((last.rows - first.rows) * 1000) / (last.at - first.at);
  }

  /** A finished table's rate over the time it was followed running; undefined when it was never seen running. */
  finish(table: string, rows: number, at: number): number | undefined {
    if (!this.finished.has(table)) {
      const first = this.firstSeen.get(table);
      if (first !== undefined && at - first.at >= 1_000) {
        this.finished.set(table, ((rows - first.rows) * 1000) / (at - first.at));
      } else this.finished.set(table, Number.NaN);
    }
    const rate = this.finished.get(table);
    return rate === undefined || Number.isNaN(rate) ? undefined : rate;
  }
}

export function tableLines(snapshot: ExportSnapshot, meter: RateMeter, now: number): TableLine[] {
  const tables = snapshot.progress?.tables ?? [];
  return tables.map((progress): TableLine => {
    const activity = tableActivity(snapshot, progress.table);
    const heartbeat = activity?.heartbeat;
    if (progress.state === 'done' && progress.result !== undefined) {
      const { rows, mode } = progress.result;
      const rate = meter.finish(progress.table, rows, now);
      return {
        table: progress.table,
        state: 'done',
        rows,
        total: rows,
        mode,
        attempt: activity?.attempt ?? 1,
        ...(rate === undefined ? {} : { rate }),
      };
    }
    const rows = heartbeat?.rows ?? 0;
    if (heartbeat !== undefined) {
      meter.observe(progress.table, rows, activity?.lastHeartbeatAt?.getTime() ?? now);
    }
    const rate = progress.state === 'running' ? meter.current(progress.table) : undefined;
    const rateLimitedUntil =
      heartbeat?.waitingUntil === undefined ? undefined : new Date(heartbeat.waitingUntil);
    const waiting =
      rateLimitedUntil !== undefined && rateLimitedUntil.getTime() > now
        ? { waitingUntil: rateLimitedUntil, waitingFor: 'rate limit' as const }
        : activity?.nextAttemptAt !== undefined && activity.nextAttemptAt.getTime() > now
          ? { waitingUntil: activity.nextAttemptAt, waitingFor: 'retry' as const }
          : {};
    const total =
      heartbeat?.totalEstimate === undefined ? undefined : Math.max(heartbeat.totalEstimate, rows);
    return {
      table: progress.table,
      state: progress.state,
      rows,
      attempt: activity?.attempt ?? 1,
      ...(total === undefined ? {} : { total }),
      ...(rate === undefined ? {} : { rate }),
      ...(heartbeat?.mode === undefined ? {} : { mode: heartbeat.mode }),
      ...waiting,
      ...(activity?.lastFailure === undefined ? {} : { lastFailure: activity.lastFailure }),
      ...(progress.error === undefined ? {} : { error: progress.error }),
    };
  });
}

export function rateText(rate: number | undefined): string {
  return rate === undefined ? '' : `${Math.round(rate)} rows/s`;
}

export function statusText(line: TableLine, now: number): string {
  switch (line.state) {
    case 'pending':
      return 'pending';
    case 'done':
      return `done (${line.mode ?? ''})`;
    case 'failed':
      return `failed: ${line.error ?? 'see the workflow'}`;
    case 'running': {
      const parts: string[] = [line.mode === undefined ? 'starting' : `running (${line.mode})`];
      if (line.attempt > 1) parts.push(`attempt ${line.attempt}`);
      if (line.waitingUntil !== undefined) {
        const seconds = Math.max(1, Math.ceil((line.waitingUntil.getTime() - now) / 1000));
        parts.push(
          line.waitingFor === 'retry'
            ? `next attempt in ${seconds} s`
            : `ServiceNow rate limit, next read in ${seconds} s`,
        );
      }
      return parts.join(', ');
    }
  }
}
