/**
 * Durations as text, in the two forms the connector prints. Workflow code imports this module: no Node
 * built-ins, no I/O.
 */

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * The exact duration in its largest whole unit (`1d`, `36h`, `90s`, `1500ms`), as settings and `--interval`
 * options are written, so that what is printed can be typed back.
 */
export function formatDuration(ms: number): string {
  if (ms % DAY === 0) return `${ms / DAY}d`;
  if (ms % HOUR === 0) return `${ms / HOUR}h`;
  if (ms % MINUTE === 0) return `${ms / MINUTE}m`;
  if (ms % SECOND === 0) return `${ms / SECOND}s`;
  return `${ms}ms`;
}

/**
 * The duration rounded for people reading a ticket (`45 minutes`, `3 hours`, `10 days`). Released workflow code
 * writes it into ticket notes and failure reasons recorded in histories: its output must never change.
 */
export function approximateDuration(ms: number): string {
  const minutes = Math.round(ms / MINUTE);
  if (minutes < 120) return `${minutes} minute${minutes === 1 ? '' : 's'}`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} hours`;
  return `${Math.round(hours / 24)} days`;
}

/** A stopwatch reading for progress lines: `4.2 s`, `27 s`, `4m05s`, `1h02m03s`. */
export function elapsedDuration(ms: number): string {
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  const total = Math.round(ms / 1000);
  if (total < 60) return `${total} s`;
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m${s}s` : `${m}m${s}s`;
}
