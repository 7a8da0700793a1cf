import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { ticketChangedSignal, type TicketChangedSignal } from '../contract/messages';
import { MAX_ORDER_ID_LENGTH } from '../contract/limits';
import { isOrderIdOf, ticketSweepWorkflowId } from '../contract/names';
import { notAnOpenOrderOfTicket } from '../client/orderStatus';
import type {
  SweepCounts,
  SweepPlan,
  SweepTicketChangesInput,
  SweepTicketChangesResult,
  SweptVersion,
} from '../contract/sweep';
import {
  formatServiceNowDateTime,
  isServiceNowDateTime,
  laterOf,
  shiftServiceNowDateTime,
} from '../export/timestamps';
import { noMetrics, type ConnectorMetrics } from '../platform/metrics';
import { ticketChangesSince, type ChangePosition, type TicketChange } from '../servicenow/changes';
import type { ServiceNowClients } from '../servicenow/connection';
import { asActivity } from './failures';

/** Tells an order that its ticket changed: 'ended' when the order's workflow is no longer running. */
export type NotifyOrder = (orderId: string, notice: TicketChangedSignal) => Promise<'signaled' | 'ended'>;

export interface SweepActivityDependencies {
  readonly serviceNow: ServiceNowClients;
  /** A connection's sweep settings; undefined when sweeping is off or the connection has no ticket mapping. */
  readonly plan: (connection: string) => SweepPlan | undefined;
  readonly metrics?: ConnectorMetrics;
  /** Default: a signal through the worker's own client (`Context.current().client`). */
  readonly notifyOrder?: NotifyOrder;
  /**
   * Whether a correlation id not shaped like `snow-ticket`'s order ids names an open order of that ticket (Identity
   * Manager's own client may choose its ids). Default: notAnOpenOrderOfTicket through the worker's client.
   */
  readonly isRunningOrder?: (workflowId: string, ticketNumber: string) => Promise<boolean>;
  readonly now?: () => Date;
}

/**
 * The first sweep of a connection has no watermark: it reads the changes of the last day, the longest a ticket
 * change waits for its order's own safety poll while the sweep runs, rather than every ticket ever opened.
 */
export const FIRST_SWEEP_LOOKBACK_MS = 86_400_000;
/**
 * At most this many versions are remembered for the next sweep (the newest). Beyond, after a mass update, the
 * next sweep tells some orders twice, which they ignore; the workflow's history stays small.
 */
export const MAX_REMEMBERED_VERSIONS = 2_000;
/** Well inside the heartbeat timeout of the activity (src/workflows/sweep/activityStubs.ts). */
const KEEP_ALIVE_MS = 5_000;

/** Progress of one sweep, sent with each heartbeat so that a retry resumes where the failed attempt was. */
interface SweepProgress {
  /** Where every table's read starts: fixed by the first attempt (the first sweep's depends on the clock). */
  readonly since: string;
  /** Index into the input's tables of the table being read. */
  readonly table: number;
  /** The last row handled in that table; undefined at its start. */
  readonly position?: ChangePosition;
  readonly newest?: string;
  readonly remembered: readonly SweptVersion[];
  readonly counts: SweepCounts;
}

const NO_COUNTS: SweepCounts = { calls: 0, rows: 0, signaled: 0, ignored: 0, repeated: 0 };

export function createSweepActivities(deps: SweepActivityDependencies) {
  const metrics = deps.metrics ?? noMetrics;
  const now = deps.now ?? (() => new Date());
  const notifyOrder = deps.notifyOrder ?? notifyThroughWorkerClient;
  const isRunningOrder = deps.isRunningOrder ?? runningOrderThroughWorkerClient;
  return {
    /** The connection's sweep settings as this worker has them; null: nothing to sweep, the sweep ends. */
    async planTicketSweep(connection: string): Promise<SweepPlan | null> {
      return deps.plan(connection) ?? null;
    },

    /**
     * One sweep of a connection: every ticket of ours changed since the watermark (less the overlap), table by
     * table, page by page; each order whose ticket changed is signaled once per ticket version. Heartbeats its
     * position after each page and resumes from it on retry; returns the new watermark only once every table was
     * read, so that a failed sweep is read again, never skipped.
     */
    async sweepTicketChanges(input: SweepTicketChangesInput): Promise<SweepTicketChangesResult> {
      return asActivity(async () => {
        const context = Context.current();
        const client = deps.serviceNow(input.connection);
        const told = new Set(input.recentlySignaled.map(([sysId, count]) => versionKey(sysId, count)));
        let progress = resumedProgress(context.info.heartbeatDetails, input.tables.length) ?? {
          since:
            input.watermark === undefined
              ? formatServiceNowDateTime(now().getTime() - FIRST_SWEEP_LOOKBACK_MS)
              : shiftServiceNowDateTime(input.watermark, -input.overlapMs),
          table: 0,
          remembered: [],
          counts: NO_COUNTS,
        };
        const beat = () => context.heartbeat(progress);
        beat();
        const keepAlive = setInterval(beat, KEEP_ALIVE_MS);
        try {
          for (let index = progress.table; index < input.tables.length; index++) {
            const table = input.tables[index] as SweepTicketChangesInput['tables'][number];
            const pages = ticketChangesSince(client, table, progress.since, {
              pageSize: input.pageSize,
              signal: context.cancellationSignal,
              ...(progress.position === undefined ? {} : { after: progress.position }),
            });
            for await (const page of pages) {
              let { counts, remembered, newest } = progress;
              counts = { ...counts, calls: counts.calls + 1, rows: counts.rows + page.changes.length };
              const handled: SweptVersion[] = [];
              for (const change of page.changes) {
                newest = laterOf(newest, change.updatedOn);
                const outcome = await tell(change);
                counts = counted(counts, outcome);
                if (outcome !== 'foreign') handled.push([change.sysId, change.sysModCount, change.updatedOn]);
              }
              remembered = inWindow([...remembered, ...handled], newest, input.overlapMs);
              progress = { ...progress, table: index, position: page.position, newest, remembered, counts };
              beat();
            }
            // The empty page that ended the table was a call too.
            const { counts } = progress;
            progress = {
              ...progress,
              table: index + 1,
              position: undefined,
              counts: { ...counts, calls: counts.calls + 1 },
            };
            beat();
          }
        } finally {
          clearInterval(keepAlive);
        }
        const { counts, newest, remembered } = progress;
        metrics.sweep(input.connection, counts.rows, counts.signaled);
        const watermark = laterOf(input.watermark, newest);
        return {
          ...(watermark === undefined ? {} : { watermark }),
          recentlySignaled: remembered,
          counts,
        };

        async function tell(change: TicketChange): Promise<Outcome> {
          const key = versionKey(change.sysId, change.sysModCount);
          if (told.has(key)) return 'repeated';
          if (!(await isOrderOf(input.connection, change, isRunningOrder))) return 'foreign';
          told.add(key);
          return notifyOrder(change.correlationId, { sysModCount: change.sysModCount, source: 'sweep' });
        }
      });
    },
  };
}

/** What became of one changed ticket: its order told, already told, ended, or not one of ours to tell. */
type Outcome = 'signaled' | 'repeated' | 'ended' | 'foreign';

function counted(counts: SweepCounts, outcome: Outcome): SweepCounts {
  const field = outcome === 'ended' || outcome === 'foreign' ? 'ignored' : outcome;
  return { ...counts, [field]: counts[field] + 1 };
}

function versionKey(sysId: string, sysModCount: number): string {
  return `${sysId}:${sysModCount}`;
}

/**
 * The versions the next sweep reads again: those updated at or after the new watermark less the overlap. The
 * watermark only grows, so a version dropped here is never needed later in this sweep either.
 */
function inWindow(
  versions: readonly SweptVersion[],
  newest: string | undefined,
  overlapMs: number,
): SweptVersion[] {
  if (newest === undefined) return [...versions];
  const from = shiftServiceNowDateTime(newest, -overlapMs);
  const kept = versions.filter(([, , updatedOn]) => updatedOn >= from);
  if (kept.length <= MAX_REMEMBERED_VERSIONS) return kept;
  return kept.sort(([, , a], [, , b]) => (a < b ? 1 : a > b ? -1 : 0)).slice(0, MAX_REMEMBERED_VERSIONS);
}

/** The progress an earlier attempt heartbeat, when it has the shape this code writes; undefined otherwise. */
function resumedProgress(details: unknown, tables: number): SweepProgress | undefined {
  if (typeof details !== 'object' || details === null) return undefined;
  const { since, table, position, newest, remembered, counts } = details as Partial<
    Record<keyof SweepProgress, unknown>
  >;
  const validPosition =
    position === undefined ||
    (typeof position === 'object' &&
      position !== null &&
      isServiceNowDateTime((position as Partial<ChangePosition>).updatedOn) &&
      typeof (position as Partial<ChangePosition>).sysId === 'string');
  const validCounts =
    typeof counts === 'object' &&
    counts !== null &&
    Object.keys(NO_COUNTS).every((key) => Number.isSafeInteger((counts as Record<string, unknown>)[key]));
  if (
    !isServiceNowDateTime(since as string | undefined) ||
    !Number.isSafeInteger(table) ||
    (table as number) < 0 ||
    (table as number) > tables ||
    !validPosition ||
    (newest !== undefined && !isServiceNowDateTime(newest as string)) ||
    !Array.isArray(remembered) ||
    !validCounts
  ) {
    return undefined;
  }
  return details as SweepProgress;
}

/**
 * A ticket's `correlation_id` is free text a fulfiller can edit: only an id shaped like this connection's order ids,
 * or one naming a running provisioning workflow, is ever signaled (never a sweep, an export or anything else).
 */
async function isOrderOf(
  connection: string,
  change: TicketChange,
  isRunningOrder: (workflowId: string, ticketNumber: string) => Promise<boolean>,
): Promise<boolean> {
  const id = change.correlationId;
  if (isOrderIdOf(connection, id)) return true;
  if (!isPossibleOrderId(id)) return false;
  return isRunningOrder(id, change.number);
}

function isPossibleOrderId(id: string): boolean {
  return id.trim() !== '' && id.length <= MAX_ORDER_ID_LENGTH && !id.startsWith(ticketSweepWorkflowId(''));
}

async function runningOrderThroughWorkerClient(workflowId: string, ticketNumber: string): Promise<boolean> {
  return (await notAnOpenOrderOfTicket(Context.current().client, workflowId, ticketNumber)) === undefined;
}

/** Signals through the worker's own client; a workflow that has ended is not an error, its order is done. */
const notifyThroughWorkerClient: NotifyOrder = async (orderId, notice) => {
  try {
    await Context.current().client.workflow.getHandle(orderId).signal(ticketChangedSignal, notice);
    return 'signaled';
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return 'ended';
    throw error;
  }
};
