/**
 * Where a run may write its CSV files: the connection's configured output folder, or a folder beneath it. The
 * folder a workflow input names (`outputDirectory`, the CLI's `--out`) can only narrow that choice, never widen
 * it: anyone allowed to start workflows on the task queue could otherwise make the worker write files of personal
 * data anywhere it may write (`../../etc/cron.d`, another absolute path, a symbolic link pointing elsewhere).
 */
import { mkdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import { InvalidExportInputError } from './errors';

/** The configured folder a run's output must stay within. */
export interface OutputRoot {
  /** Absolute: `TicketConnector.Exports.<connection>.OutputDirectory`, resolved. */
  readonly folder: string;
  readonly connection: string;
}

/** True when `candidate` is `root` or lies beneath it (both absolute and normalised). */
export function isWithin(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return (
    relative === '' ||
    (relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative))
  );
}

/** The absolute folder an input names (relative ones against `base`), refused when it leaves the root. */
export function confinedOutputDirectory(root: OutputRoot, requested: string, base: string): string {
  const resolved = path.resolve(base, requested);
  if (!isWithin(root.folder, resolved)) throw outsideRoot(root, requested);
  return resolved;
}

/**
 * Creates the run's output folder and checks, symbolic links resolved, that it is within the root; refuses it
 * before anything is created when it is not. Returns the folder as given (the file names in results and cookies
 * stay the ones the operator configured).
 */
export async function prepareOutputDirectory(root: OutputRoot, requested: string): Promise<string> {
  const folder = confinedOutputDirectory(root, requested, root.folder);
  await mkdir(root.folder, { recursive: true });
  const realRoot = await realpath(root.folder);
  const check = (real: string) => {
    if (!isWithin(realRoot, real)) throw outsideRoot(root, requested, real);
  };
  // Checked before creating anything (a link on the way must not make us create folders elsewhere), and again
  // once the folder exists.
  check(await realPathOfNearest(folder));
  await mkdir(folder, { recursive: true });
  check(await realpath(folder));
  return folder;
}

/** The real path of `target`: its nearest existing ancestor with symbolic links resolved, plus the rest. */
async function realPathOfNearest(target: string): Promise<string> {
  const missing: string[] = [];
  for (let existing = target; ; existing = path.dirname(existing)) {
    try {
      return path.join(await realpath(existing), ...missing);
    } catch (error) {
      const parent = path.dirname(existing);
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || parent === existing) throw error;
      missing.unshift(path.basename(existing));
    }
  }
}

function outsideRoot(root: OutputRoot, requested: string, real?: string): InvalidExportInputError {
  const where = real === undefined ? '' : ` (it resolves to ${real} through a symbolic link)`;
  return new InvalidExportInputError(
    `outputDirectory ${JSON.stringify(requested)} is outside the connection's export folder ${root.folder}${where}: ` +
      `a run may write to that folder or one beneath it only (change TicketConnector.Exports.${root.connection}.OutputDirectory to export elsewhere)`,
  );
}
