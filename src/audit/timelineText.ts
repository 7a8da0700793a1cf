import { plural, type Timeline, type TimelineEntry } from './timelineModel';

export interface RenderOptions {
  /** Runs of at least this many consecutive checks with the same result become one line (default 3; 0: never). */
  readonly collapseChecksFrom?: number;
}

/** The timeline as text, one line per entry; runs of unchanged checks are collapsed ("12 checks, ticket New"). */
export function renderTimeline(timeline: Timeline, options: RenderOptions = {}): string {
  const collapseFrom = options.collapseChecksFrom ?? 3;
  const lines: string[] = [];
  const runs = timeline.runs.length;
  const events = timeline.runs.reduce((total, run) => total + run.events, 0);
  const last = timeline.runs.at(-1);
  lines.push(
    `Workflow ${timeline.workflowId ?? '(id unknown)'}: ${plural(runs, 'run')}, ${plural(events, 'event')}` +
      (last !== undefined && last.ending === undefined ? ', still running' : ''),
  );
  const line = (time: string, run: number, text: string) => `${time}  run ${run}  ${text}`;
  const { entries } = timeline;
  for (let i = 0; i < entries.length;) {
    const entry = entries[i] as TimelineEntry;
    let j = i + 1;
    if (entry.kind === 'check' && collapseFrom > 0) {
      while (j < entries.length && sameCheck(entry, entries[j] as TimelineEntry)) j += 1;
    }
    const count = j - i;
    if (entry.kind === 'check' && collapseFrom > 0 && count >= Math.max(2, collapseFrom)) {
      const lastCheck = entries[j - 1] as TimelineEntry;
      const label = entry.text.replace(/^check: /, '');
      lines.push(line(entry.time, entry.run, `${count} checks, ${label} (until ${lastCheck.time})`));
      i = j;
    } else {
      lines.push(line(entry.time, entry.run, entry.text));
      i += 1;
    }
  }
  return `${lines.join('\n')}\n`;
}

function sameCheck(a: TimelineEntry, b: TimelineEntry): boolean {
  return b.kind === 'check' && b.run === a.run && b.text === a.text;
}
