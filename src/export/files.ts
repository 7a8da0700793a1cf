/**
 * File handling that keeps export files whole: temporary names beside the final file, fsync before rename,
 * atomic rename within one folder, and the folder itself synced so that the rename survives a power loss.
 */
import { randomBytes } from 'node:crypto';
import { open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** `<connection>_<table>.csv`: the name the identity system reads. */
export function exportFileName(connection: string, table: string): string {
  return `${connection}_${table}.csv`;
}

/** `<connection>_<table>.json`: the table's watermark (cookie) in the cookie folder. */
export function cookieFileName(connection: string, table: string): string {
  return `${connection}_${table}.json`;
}

export function randomSuffix(): string {
  return randomBytes(6).toString('hex');
}

/** `<connection>_<table>.lock`: held while a table's file and cookie are put in place. */
export function lockFileName(connection: string, table: string): string {
  return `${connection}_${table}.lock`;
}

/** `.<name>.<random>.tmp`: hidden, beside the final file (so the rename stays within one file system). */
export function tempPathFor(finalPath: string, suffix = randomSuffix()): string {
  return path.join(path.dirname(finalPath), `.${path.basename(finalPath)}.${suffix}.tmp`);
}

/** The key file kept beside a temporary CSV file: `.<name>.<random>.keys.tmp`. */
export function keysPathFor(tempPath: string): string {
  return tempPath.replace(/\.tmp$/, '.keys.tmp');
}

const TEMP_NAME = /^\.(.+)\.([0-9a-f]+)\.(keys\.)?tmp$/;

/** True when `candidate` is a temporary file (CSV or keys) of `finalPath`, in the same folder. */
export function isTempFileOf(finalPath: string, candidate: string): boolean {
  if (path.dirname(path.resolve(candidate)) !== path.dirname(path.resolve(finalPath))) return false;
  const match = TEMP_NAME.exec(path.basename(candidate));
  return match?.[1] === path.basename(finalPath);
}

/** Best effort: makes a rename or a new file in `dir` durable. Some platforms cannot open folders; that is fine. */
export async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Windows and some network file systems refuse to open or sync a folder.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** Writes a whole file or nothing: temporary file, fsync, rename over the target, folder sync. */
export async function writeFileAtomic(target: string, content: string): Promise<void> {
  const temp = tempPathFor(target);
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(content, 'utf8');
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await removeQuietly(temp);
    throw error;
  }
  await handle.close();
  try {
    await rename(temp, target);
  } catch (error) {
    await removeQuietly(temp);
    throw error;
  }
  await syncDirectory(path.dirname(target));
}

export async function removeQuietly(file: string): Promise<void> {
  await unlink(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}

export async function sizeOf(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Removes temporary files of `finalPath` left by interrupted runs that no later attempt resumed (a crash on a
 * machine that did not run the retry, say): those untouched for `olderThanMs`. A live export writes its
 * temporary file at least every page, so it is never that old.
 */
export async function removeStaleTempFiles(
  finalPath: string,
  olderThanMs: number,
  keep: readonly string[],
  now = Date.now(),
): Promise<string[]> {
  const dir = path.dirname(finalPath);
  const removed: string[] = [];
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return removed;
  }
  const kept = new Set(keep.map((file) => path.resolve(file)));
  for (const name of names) {
    const file = path.join(dir, name);
    if (!isTempFileOf(finalPath, file) || kept.has(path.resolve(file))) continue;
    try {
      if (now - (await stat(file)).mtimeMs < olderThanMs) continue;
      await removeQuietly(file);
      removed.push(file);
    } catch {
      // Another process removed or is using it: leave it.
    }
  }
  return removed;
}

/** Another export of the same table holds its lock for longer than a commit takes. */
export class ExportBusyError extends Error {
  readonly retryable = true;

  constructor(lockFile: string) {
    super(`Another export of this table is putting its files in place (${lockFile} is held); retrying later`);
    this.name = 'ExportBusyError';
  }
}

/**
 * Runs `body` holding an exclusive lock file (created with O_EXCL), so that two exports of one table never
 * interleave putting their CSV file and cookie in place. A lock older than `staleMs` was left by a crash.
 */
export async function withLockFile<T>(
  lockFile: string,
  body: () => Promise<T>,
  { staleMs = 60_000, waitMs = 30_000 }: { staleMs?: number; waitMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const handle = await open(lockFile, 'wx', 0o600);
      await handle.writeFile(
        JSON.stringify({ host: hostname(), pid: process.pid, at: new Date().toISOString() }),
      );
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const held = await stat(lockFile).catch(() => undefined);
      if (held !== undefined && Date.now() - held.mtimeMs > staleMs) {
        await removeQuietly(lockFile);
        continue;
      }
      if (Date.now() > deadline) throw new ExportBusyError(lockFile);
      await sleep(50);
    }
  }
  try {
    return await body();
  } finally {
    await removeQuietly(lockFile);
  }
}
