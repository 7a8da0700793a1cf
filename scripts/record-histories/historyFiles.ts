import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { historyJSON, type RunHistory } from '../../src/audit/histories';

/** Larger files are refused: the histories are committed, and a replay test reads every one of them. */
const MAX_FILE_BYTES = 300 * 1024;

/**
 * Writes each run of a scenario as `<name>.json`, or `<name>-runN.json` when it continued as new; `check` sees
 * each file's text before it is written and throws to keep it out. The file names, in run order.
 */
export function writeRunHistories(
  outDir: string,
  scenario: string,
  runs: readonly RunHistory[],
  check: (name: string, json: string) => void = () => undefined,
): string[] {
  const files = runs.map((run, index) => {
    const name = runs.length === 1 ? scenario : `${scenario}-run${index + 1}`;
    const json = historyJSON(run.history);
    if (Buffer.byteLength(json) > MAX_FILE_BYTES) {
      throw new Error(
        `${name}: ${Buffer.byteLength(json)} bytes, over ${MAX_FILE_BYTES}; shorten the scenario`,
      );
    }
    check(name, json);
    return { file: path.join(outDir, `${name}.json`), json };
  });
  // Checked first, written after: a refused run leaves no file of its scenario behind.
  for (const { file, json } of files) writeFileSync(file, json);
  return files.map(({ file }) => path.basename(file));
}
