/**
 * ServiceNow date-times (`YYYY-MM-DD HH:MM:SS`, UTC), as `sys_updated_on` is written. In this form, text order is
 * time order, so watermarks compare as strings.
 */
import { SERVICENOW_DATE_TIME as DATE_TIME } from '../contract/sweep';

export function isServiceNowDateTime(value: string | undefined): value is string {
  return value !== undefined && DATE_TIME.test(value) && Number.isFinite(parseServiceNowDateTime(value));
}

/** Milliseconds since the epoch; NaN when the text is not a ServiceNow date-time. */
export function parseServiceNowDateTime(value: string): number {
  return DATE_TIME.test(value) ? Date.parse(`${value.replace(' ', 'T')}Z`) : Number.NaN;
}

/** The date-time in ServiceNow's form; milliseconds are dropped (rounded down to the second). */
export function formatServiceNowDateTime(time: Date | number): string {
  return new Date(time).toISOString().slice(0, 19).replace('T', ' ');
}

/** `value` moved by `deltaMs` (negative: earlier), in ServiceNow's form. */
export function shiftServiceNowDateTime(value: string, deltaMs: number): string {
  const time = parseServiceNowDateTime(value);
  if (!Number.isFinite(time)) throw new RangeError('not a ServiceNow date-time');
  return formatServiceNowDateTime(Math.max(0, time + deltaMs));
}

export function laterOf(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a >= b ? a : b;
}

export function earlierOf(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a <= b ? a : b;
}
