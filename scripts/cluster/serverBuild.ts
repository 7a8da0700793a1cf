import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { checkServerBuild, serverBuildIn, serverDir, TEMPORAL_SERVER_VERSION } from './serverBinaries';

/**
 * Builds the Temporal server and temporal-sql-tool from the `go.temporal.io/server` Go module (the only source
 * reachable here: no release downloads, no Docker) and copies the PostgreSQL schemas out of the module source.
 */

const SERVER_MODULE = 'go.temporal.io/server';
/** A cold build of the server on 2 cores takes minutes; this only stops a hung toolchain. */
const STEP_TIMEOUT_MS = 40 * 60_000;

type Log = (line: string) => void;

export class ServerBuildError extends Error {
  constructor(step: string, detail: string) {
    super(`Building the Temporal server ${TEMPORAL_SERVER_VERSION} failed at "${step}": ${detail}`);
    this.name = 'ServerBuildError';
  }
}

/** The machine's Go: PATH first, then the standard install location. */
function goCommand(): string {
  const found = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (found.status === 0) return 'go';
  if (existsSync('/usr/local/go/bin/go')) return '/usr/local/go/bin/go';
  throw new ServerBuildError('find Go', 'no `go` on PATH nor /usr/local/go/bin/go; install Go 1.25 or later');
}

function run(
  log: Log,
  step: string,
  command: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): string {
  log(`$ ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, {
    cwd,
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: STEP_TIMEOUT_MS,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw new ServerBuildError(step, result.error.message);
  if (result.status !== 0) {
    const tail = `${result.stdout}${result.stderr}`.trim().split('\n').slice(-15).join('\n');
    throw new ServerBuildError(step, `${command} exited with ${result.status}:\n${tail}`);
  }
  return result.stdout.trim();
}

/**
 * Builds into a sibling temporary folder and renames it into place, so that an interrupted build never leaves
 * a half-built `dir` that the next run would take as done. Skips everything when `dir` already holds a working
 * build. Returns whether it built.
 */
export function ensureServerBuild(options: { dir?: string; log?: Log } = {}): {
  built: boolean;
  dir: string;
} {
  const dir = options.dir ?? serverDir;
  const log = options.log ?? (() => undefined);
  if (checkServerBuild(dir).length === 0) return { built: false, dir };

  const staging = `${dir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  const moduleDir = path.join(staging, 'module');
  mkdirSync(moduleDir, { recursive: true });
  try {
    const go = goCommand();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      // A throwaway module: let `go` record what it resolves; never fetch another toolchain silently.
      GOFLAGS: '-mod=mod',
      GOTOOLCHAIN: process.env.GOTOOLCHAIN ?? 'local',
      CGO_ENABLED: '0',
    };
    log(`Go: ${run(log, 'go version', go, ['version'], moduleDir, env)}`);
    run(log, 'go mod init', go, ['mod', 'init', 'local/temporal-server-build'], moduleDir, env);
    run(log, 'go get', go, ['get', `${SERVER_MODULE}@v${TEMPORAL_SERVER_VERSION}`], moduleDir, env);
    const build = serverBuildIn(staging);
    for (const [pkg, output] of [
      [`${SERVER_MODULE}/cmd/server`, build.server],
      [`${SERVER_MODULE}/cmd/tools/sql`, build.sqlTool],
    ] as const) {
      run(log, `go build ${pkg}`, go, ['build', '-trimpath', '-o', output, pkg], moduleDir, env);
    }
    const source = run(log, 'go list', go, ['list', '-m', '-f', '{{.Dir}}', SERVER_MODULE], moduleDir, env);
    for (const [from, to] of [
      [path.join(source, 'schema', 'postgresql', 'v12', 'temporal', 'versioned'), build.schema.main],
      [path.join(source, 'schema', 'postgresql', 'v12', 'visibility', 'versioned'), build.schema.visibility],
    ] as const) {
      cpSync(from, to, { recursive: true });
      makeWritable(to);
    }
    rmSync(moduleDir, { recursive: true, force: true });
    writeFileSync(
      path.join(staging, 'README'),
      `Temporal server ${TEMPORAL_SERVER_VERSION} built by scripts/setup-temporal-server.ts from ${SERVER_MODULE}.\n`,
    );
    const problems = checkServerBuild(staging);
    if (problems.length > 0) throw new ServerBuildError('check the build', problems.join('; '));
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
    return { built: true, dir };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** The module cache is read-only, and so are copies of it: without this, a non-root user could not remove them. */
function makeWritable(folder: string): void {
  chmodSync(folder, 0o755);
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const entryPath = path.join(folder, entry.name);
    if (entry.isDirectory()) makeWritable(entryPath);
    else chmodSync(entryPath, 0o644);
  }
}
