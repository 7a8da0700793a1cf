import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** src/ when run with tsx, lib/ when built: the project root is one level up either way. */
const projectRoot = path.join(__dirname, '..');

/** The package version, reported by the worker so operators can tell which build ran a workflow. */
export const version: string = (
  JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { version: string }
).version;

/** Set by the image build or the deployment pipeline: the build id of this worker when the settings give none. */
export const BUILD_ID_ENV = 'SNOW_CONNECTOR_BUILD_ID';

export interface BuildIdentity {
  buildId: string;
  /** Where the build id came from, for the start-up log. */
  source: string;
  /**
   * False when the build id is only the package version: every build of that version would claim it, so it
   * cannot tell two builds apart (worker versioning needs that).
   */
  identifiesBuild: boolean;
}

let gitCommit: { commit: string; dirty: boolean } | null | undefined;

/**
 * The commit of this checkout, and whether tracked files differ from it; null outside a git checkout (the
 * container image has neither .git nor git). Only this project's own checkout counts: a `.git` of an
 * enclosing folder describes some other code.
 */
function currentCommit(): { commit: string; dirty: boolean } | null {
  if (gitCommit !== undefined) return gitCommit;
  gitCommit = null;
  if (!existsSync(path.join(projectRoot, '.git'))) return gitCommit;
  const git = (...args: string[]) =>
    spawnSync('git', args, { cwd: projectRoot, encoding: 'utf8', timeout: 5000, stdio: 'pipe' });
  const head = git('rev-parse', '--short=12', 'HEAD');
  const commit = head.status === 0 ? head.stdout.trim() : '';
  if (!/^[0-9a-f]{7,40}$/.test(commit)) return gitCommit;
  const status = git('status', '--porcelain', '--untracked-files=no');
  gitCommit = { commit, dirty: status.status !== 0 || status.stdout.trim() !== '' };
  return gitCommit;
}

/**
 * The build id this worker reports when `TicketConnector.Temporal.Deployment.BuildId` is not set:
 * SNOW_CONNECTOR_BUILD_ID when set, else `<package version>+<commit>` (`.dirty` when tracked files were
 * changed since that commit), else the bare package version.
 */
export function defaultBuildIdentity(env: NodeJS.ProcessEnv = process.env): BuildIdentity {
  const fromEnv = env[BUILD_ID_ENV]?.trim();
  if (fromEnv) return { buildId: fromEnv, source: BUILD_ID_ENV, identifiesBuild: true };
  const git = currentCommit();
  if (git) {
    return {
      buildId: `${version}+${git.commit}${git.dirty ? '.dirty' : ''}`,
      source: `package version and git commit${git.dirty ? ', with uncommitted changes' : ''}`,
      identifiesBuild: true,
    };
  }
  return { buildId: version, source: 'package version; no git commit known', identifiesBuild: false };
}
