import type { History } from './histories';
import type { Json } from './historyPayloads';

/**
 * The audit timeline of a workflow: what happened, when and in which run, one entry per meaningful event. Built
 * by `buildTimeline` (timeline.ts), given meaning by provisioningEntries.ts, printed by timelineText.ts.
 */

export type TimelineKind =
  | 'order-received'
  | 'run-started'
  | 'planned'
  | 'ticket-created'
  | 'check'
  | 'check-failed'
  | 'signal'
  | 'update'
  | 'update-completed'
  | 'reminder'
  | 'reminder-failed'
  | 'cancel-requested'
  | 'ticket-canceled'
  | 'assignment'
  | 'activity'
  | 'activity-failed'
  | 'workflow-task-failed'
  | 'continued-as-new'
  | 'completed'
  | 'failed'
  | 'canceled'
  | 'terminated'
  | 'timed-out';

export interface TimelineEntry {
  /** The event's time, ISO 8601. */
  readonly time: string;
  /** 1 for the first run, +1 at each continue-as-new (or retry) of the workflow. */
  readonly run: number;
  readonly eventId: number;
  readonly kind: TimelineKind;
  /** One readable line. */
  readonly text: string;
  /** The structured facts behind the text, for `--json`. */
  readonly data: Readonly<Record<string, unknown>>;
}

export interface TimelineRun {
  readonly run: number;
  readonly runId?: string;
  readonly events: number;
  readonly startedAt?: string;
  readonly endedAt?: string;
  /** The last event's kind when the run has ended (completed, continued-as-new...); undefined while it runs. */
  readonly ending?: TimelineKind;
}

export interface Timeline {
  readonly workflowId?: string;
  readonly runs: readonly TimelineRun[];
  readonly entries: readonly TimelineEntry[];
}

/** The histories of the runs, oldest first, as `fetchRunHistories` returns them. */
export interface TimelineInput {
  readonly history: History;
  readonly runId?: string;
  readonly workflowId?: string;
}

/** An activity as scheduled, followed until its result or failure. */
export interface ScheduledActivity {
  readonly type: string;
  readonly input: Json;
  readonly summary?: string;
  attempt?: number;
}

/** An entry before the walk stamps it with its event's time, run and id. */
export interface EntryDraft {
  readonly kind: TimelineKind;
  readonly text: string;
  readonly data?: Record<string, unknown>;
}

/** `<what> by <who>: <why>`, each part only when the history says it. */
export function whoAndWhy(what: string, who: string | undefined, why: string | undefined): string {
  return `${what}${who === undefined ? '' : ` by ${who}`}${why === undefined ? '' : `: ${why}`}`;
}

export function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}
