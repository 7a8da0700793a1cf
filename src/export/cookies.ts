/**
 * The cookie of a table: what the last successful export of it saw, so that the next incremental export reads
 * only what changed since. Written (atomically) only after the table's CSV file is in place.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { isServiceNowDateTime } from './timestamps';
import { writeFileAtomic } from './files';
import type { ExportMode, IdentityTable } from '../contract/export';

/**
 * A row version exported in the overlap window at the end of the last run: `[sys_id, sys_updated_on,
 * sys_mod_count]`. The next incremental read meets these rows again (it starts `Overlap` before the watermark)
 * and leaves them out; a row changed since has a new `sys_updated_on` or `sys_mod_count` and is exported.
 */
export type RowVersion = readonly [sysId: string, updatedOn: string, modCount: string];

export interface ExportCookie {
  readonly version: 1;
  readonly connection: string;
  readonly table: IdentityTable;
  /** Highest `sys_updated_on` known to be exported (see `newWatermark` in readPlan.ts for how complete exports choose it). */
  readonly watermark: string;
  readonly overlapMs: number;
  /** Columns and filter of the export: an incremental export with other ones starts over completely. */
  readonly fields: readonly string[];
  readonly filter: string | null;
  /** Whether the file's cells have formulas neutralised; absent in cookies of earlier releases (they did not). */
  readonly neutralizeFormulas?: boolean;
  /** Row versions exported at or after `watermark - overlapMs`; null when there were too many to keep. */
  readonly recent: readonly RowVersion[] | null;
  readonly mode: ExportMode;
  readonly rows: number;
  readonly file: string;
  /** ISO 8601. */
  readonly exportedAt: string;
}

const dateTime = z.string().refine(isServiceNowDateTime, 'must be YYYY-MM-DD HH:MM:SS');

const cookieSchema = z.object({
  version: z.literal(1),
  connection: z.string(),
  table: z.string(),
  watermark: dateTime,
  overlapMs: z.number().nonnegative(),
  fields: z.array(z.string()),
  filter: z.string().nullable(),
  neutralizeFormulas: z.boolean().optional(),
  recent: z.array(z.tuple([z.string(), z.string(), z.string()])).nullable(),
  mode: z.enum(['complete', 'incremental']),
  rows: z.number().int().nonnegative(),
  file: z.string(),
  exportedAt: z.string(),
});

export type CookieRead =
  | { readonly status: 'missing' }
  | { readonly status: 'unusable'; readonly reason: string }
  | { readonly status: 'found'; readonly cookie: ExportCookie };

/** Reads a cookie; a cookie that cannot be trusted is reported, never half-used. */
export async function readCookie(
  file: string,
  connection: string,
  table: IdentityTable,
): Promise<CookieRead> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'missing' };
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { status: 'unusable', reason: 'it is not valid JSON' };
  }
  const parsed = cookieSchema.safeParse(json);
  if (!parsed.success) return { status: 'unusable', reason: 'it is not a cookie of this connector' };
  const cookie = parsed.data as ExportCookie;
  if (cookie.connection !== connection || cookie.table !== table) {
    return { status: 'unusable', reason: `it belongs to ${cookie.connection} ${cookie.table}` };
  }
  return { status: 'found', cookie };
}

export async function writeCookie(file: string, cookie: ExportCookie): Promise<void> {
  await writeFileAtomic(file, formatCookie(cookie));
}

/** Indented JSON an operator can read, with one row version per line rather than one value per line. */
export function formatCookie(cookie: ExportCookie): string {
  const { recent, ...rest } = cookie;
  const head = JSON.stringify(rest, null, 2).replace(/\n}$/, '');
  const versions =
    recent === null || recent.length === 0
      ? JSON.stringify(recent)
      : `[\n${recent.map((version) => `    ${JSON.stringify(version)}`).join(',\n')}\n  ]`;
  return `${head},\n  "recent": ${versions}\n}\n`;
}

export function versionKey(sysId: string, updatedOn: string, modCount: string): string {
  return `${sysId}\u0000${updatedOn}\u0000${modCount}`;
}
