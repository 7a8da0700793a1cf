/**
 * The pair of temporary files a table is written to: the CSV file and, beside it, the key file of the row
 * versions the next incremental run may meet again (see `overlap.ts`). Writes are positional, so what is on disk
 * never depends on a file offset and a resumed attempt can cut both files back to its last heartbeat.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { csvHeader } from './csv';
import { keysPathFor, removeQuietly, tempPathFor } from './files';

export interface TempFiles {
  readonly csvPath: string;
  readonly keysPath: string;
  readonly csv: FileHandle;
  readonly keys: FileHandle;
  readonly headerBytes: number;
}

export async function createTempFiles(finalPath: string, fields: readonly string[]): Promise<TempFiles> {
  const csvPath = tempPathFor(finalPath);
  const keysPath = keysPathFor(csvPath);
  const csv = await open(csvPath, 'wx+', 0o640);
  let keys: FileHandle;
  try {
    keys = await open(keysPath, 'wx+', 0o600);
  } catch (error) {
    await csv.close();
    await removeQuietly(csvPath);
    throw error;
  }
  const header = Buffer.from(csvHeader(fields), 'utf8');
  await writeAt(csv, header, 0);
  return { csvPath, keysPath, csv, keys, headerBytes: header.length };
}

/** Writes the whole buffer at `position` (positional writes: what is on disk never depends on a file offset). */
export async function writeAt(handle: FileHandle, buffer: Buffer, position: number): Promise<void> {
  let written = 0;
  while (written < buffer.length) {
    const { bytesWritten } = await handle.write(buffer, written, buffer.length - written, position + written);
    written += bytesWritten;
  }
}

export async function closeAll(temp: TempFiles): Promise<void> {
  await temp.csv.close().catch(() => undefined);
  await temp.keys.close().catch(() => undefined);
}

export async function removeTempFiles(csvPath: string): Promise<void> {
  await removeQuietly(csvPath).catch(() => undefined);
  await removeQuietly(keysPathFor(csvPath)).catch(() => undefined);
}
