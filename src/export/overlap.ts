/**
 * The row versions an export must remember for the next incremental run: those exported in the overlap window
 * just before the new watermark. The watermark is known only at the end, so while the table is read the possible
 * ones (candidates) go to a key file beside the temporary CSV file, one JSON array per line. The file survives a
 * worker crash with the CSV file and is truncated with it, so a resumed export remembers exactly the rows its
 * CSV file holds; memory holds at most `MAX_RECENT_VERSIONS` versions, whatever the table size.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { versionKey, type RowVersion } from './cookies';

/**
 * More versions than this in one overlap window (a bulk load or mass update just before the export) are not
 * remembered: the next incremental export then writes the window's rows again rather than risk missing one.
 */
export const MAX_RECENT_VERSIONS = 50_000;

export function keyLine(version: RowVersion): string {
  return `${JSON.stringify(version)}\n`;
}

function parseKeyLine(line: string): RowVersion | undefined {
  try {
    const value: unknown = JSON.parse(line);
    if (Array.isArray(value) && value.length === 3 && value.every((part) => typeof part === 'string')) {
      return value as unknown as RowVersion;
    }
  } catch {
    // A torn last line beyond the resumed length is cut off before reading; anything else is not ours.
  }
  return undefined;
}

/**
 * The versions at or after `windowStart` among the first `bytes` bytes of the key file and `carried` (versions the
 * previous cookie remembered), without duplicates; undefined when there are more than `max`.
 */
export async function collectRecent(
  keysFile: string,
  bytes: number,
  windowStart: string,
  carried: readonly RowVersion[],
  max = MAX_RECENT_VERSIONS,
): Promise<RowVersion[] | undefined> {
  const recent = new Map<string, RowVersion>();
  const keep = (version: RowVersion): boolean => {
    if (version[1] < windowStart) return true;
    recent.set(versionKey(...version), version);
    return recent.size <= max;
  };
  for (const version of carried) if (!keep(version)) return undefined;
  if (bytes > 0) {
    const input = createReadStream(keysFile, { start: 0, end: bytes - 1, encoding: 'utf8' });
    const lines = createInterface({ input, crlfDelay: Infinity });
    try {
      for await (const line of lines) {
        const version = parseKeyLine(line);
        if (version !== undefined && !keep(version)) return undefined;
      }
    } finally {
      lines.close();
      input.destroy();
    }
  }
  return [...recent.values()].sort((a, b) =>
    a[1] === b[1] ? a[0].localeCompare(b[0]) : a[1] < b[1] ? -1 : 1,
  );
}
