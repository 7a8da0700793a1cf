import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { bundledProjectFiles, WORKFLOW_CODE_DIRS, workflowCodeDigest } from '../../src/audit/workflowCode';
import { workflowBundle } from '../harness/temporalServers';
import { ROOT } from './recordScenario';

/** Which code recorded a scenario: the commit, whether the workflow code differed from it, and its digest. */
export interface CodeVersion {
  readonly commit: string;
  readonly workflowChanged: boolean;
  readonly workflowDigest: string;
  readonly sdk: string;
  readonly recordedOn: string;
}

export async function codeVersion(): Promise<CodeVersion> {
  const git = (...args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
    } catch {
      return '';
    }
  };
  // Exactly what runs in the workflow sandbox: the bundle's own files, shared contract included.
  const files = bundledProjectFiles((await workflowBundle()).code);
  const sdk = (
    JSON.parse(readFileSync(require.resolve('@temporalio/worker/package.json'), 'utf8')) as {
      version: string;
    }
  ).version;
  return {
    commit: git('rev-parse', '--short', 'HEAD') || 'unknown',
    workflowChanged: git('status', '--porcelain', '--', ...WORKFLOW_CODE_DIRS) !== '',
    workflowDigest: workflowCodeDigest(ROOT, files),
    sdk,
    recordedOn: new Date().toISOString().slice(0, 10),
  };
}

/** What `recorded.manifest` in a release folder keeps per scenario, so that adding one keeps the others' record. */
export type Manifest = Record<
  string,
  { readonly files: readonly string[]; readonly description: string } & CodeVersion
>;

/** What the README says of the password scenarios of a release (`passwordScenarios`: their names). */
function passwordParagraph(passwordScenarios: readonly string[]): string[] {
  if (passwordScenarios.length === 0) return [];
  return [
    `Password scenarios (${passwordScenarios.join(', ')}):`,
    'password resets (`passwordResetWorkflow`) and orders that carry a password, on the password task queue',
    '(`<queue>-passwords`) as the connector runs them, with a worker that seals every payload under a password',
    'key generated for the recording, held in memory only and never written. Before a file is written its',
    'payloads and failures are opened with that key (`src/audit/historyDecoding.ts`) and the dummy password is',
    "replaced by `[password withheld]` in the payloads' JSON; the recorder refuses a file that still holds it in",
    'any form (as is, escaped, URL-encoded, base64, also inside base64 fields). These files hold neither',
    'ciphertext nor a password, and replay needs no key: it does not compare workflow or activity inputs. The',
    'workflows read their task queue to tell a password run: `src/audit/replay.ts` replays these histories on a',
    'replay worker of their own password task queue.',
    '',
  ];
}

/** What the README says of the sweep scenarios of a release (`sweepScenarios`: their names). */
function sweepParagraph(sweepScenarios: readonly string[]): string[] {
  if (sweepScenarios.length === 0) return [];
  return [
    `Sweep scenarios (${sweepScenarios.join(', ')}): the ticket sweep of the test connection`,
    '(`ticketSweepWorkflow`, workflow id `ticket-sweep:Sim`), started as the worker processes start it',
    '(`ensureTicketSweeps`), on the same task queue as the order it tells. A sweep never ends by itself: the',
    'scenario drives it through its sweeps, lets it continue as new, and terminates it; each run is a file, the',
    'last one ending in its termination. They replay like the others, with the same workflow bundle.',
    '',
  ];
}

/** The names of a release's scenarios of each kind that the README explains in a paragraph of its own. */
export interface ScenarioKinds {
  readonly password: readonly string[];
  readonly sweep: readonly string[];
}

export function readme(
  release: number,
  manifest: Manifest,
  kinds: ScenarioKinds = { password: [], sweep: [] },
): string {
  const lines = [
    `# Recorded workflow histories: release ${release}`,
    '',
    'Histories of the provisioning workflow, one JSON file per run, in the format of',
    '`temporal workflow show --output json` and of the Web UI download (`historyFromJSON` reads them).',
    '`test/audit/replay.test.ts` replays every file under `test/histories/` against the current workflow code.',
    '',
    '**Never regenerate these histories to make a replay test pass after a workflow change.** They stand for',
    'workflows already running in production: a replay failure means the change would break them. Keep the',
    "old behaviour for histories that reached that point with `patched('<change-id>')` (and `deprecatePatch`",
    'once no such workflow is left), then record the new behaviour as scenarios of the next release',
    '(`npm run histories:record -- --release <n>`; `--add` records scenarios missing from an existing folder).',
    '',
    'Recorded by `scripts/record-histories.ts`: time-skipping test server, ServiceNow simulator, a real worker',
    'with the connector activities and a SQLite ledger. The digest is sha-256 over the files bundled into the',
    'workflow code (src/workflows and src/contract), first 16 hex digits.',
    '',
    ...passwordParagraph(kinds.password),
    ...sweepParagraph(kinds.sweep),
    '| scenario | files | what happens | recorded by |',
    '| -------- | ----- | ------------ | ----------- |',
    ...Object.entries(manifest).map(
      ([name, entry]) =>
        `| ${name} | ${entry.files.join('<br>')} | ${entry.description} | commit ${entry.commit}` +
        `${entry.workflowChanged ? ' (uncommitted workflow changes)' : ''}, digest ${entry.workflowDigest}, ` +
        `SDK ${entry.sdk}, ${entry.recordedOn} |`,
    ),
    '',
    'A workflow that continued as new has one file per run (`<scenario>-runN.json`), in run order.',
    '',
  ];
  return lines.join('\n');
}
