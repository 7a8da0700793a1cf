import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { isExecutable } from '../../src/platform/temporalBinaries';

/**
 * Where the Temporal server and its SQL schema tool live once built from the Go module (see
 * scripts/cluster/serverBuild.ts): a git-ignored folder per version under .temporal/, next to the CLI.
 *
 * Keep TEMPORAL_SERVER_VERSION in step with docker-compose.yml (`TEMPORAL_VERSION` default of the server
 * images): the cluster test then proves the release the compose topology runs.
 */
export const TEMPORAL_SERVER_VERSION = '1.29.1';

const repoRoot = path.resolve(__dirname, '..', '..');

/** Overridable so that a developer can point at a build elsewhere (or CI at a cached one). */
export const serverDir =
  process.env.TEMPORAL_SERVER_DIR ?? path.join(repoRoot, '.temporal', `server-${TEMPORAL_SERVER_VERSION}`);

export interface ServerBuild {
  /** `temporal-server`: every service role, chosen with `--service`. */
  readonly server: string;
  /** `temporal-sql-tool`: creates the databases and applies the versioned schemas. */
  readonly sqlTool: string;
  /** PostgreSQL (v12 plugin) versioned schema folders, as shipped in the server module. */
  readonly schema: { readonly main: string; readonly visibility: string };
}

export function serverBuildIn(dir: string): ServerBuild {
  const schemaRoot = path.join(dir, 'schema', 'postgresql', 'v12');
  return {
    server: path.join(dir, 'bin', 'temporal-server'),
    sqlTool: path.join(dir, 'bin', 'temporal-sql-tool'),
    schema: {
      main: path.join(schemaRoot, 'temporal', 'versioned'),
      visibility: path.join(schemaRoot, 'visibility', 'versioned'),
    },
  };
}

export class TemporalServerMissingError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      [
        `The Temporal server ${TEMPORAL_SERVER_VERSION} build is missing or broken:`,
        ...problems.map((problem) => `  - ${problem}`),
        'Build it with `npm run setup:temporal-server` (Go from the Go module proxy, a few minutes the first time),',
        'or set TEMPORAL_SERVER_DIR to a folder holding bin/temporal-server, bin/temporal-sql-tool and schema/.',
      ].join('\n'),
    );
    this.name = 'TemporalServerMissingError';
  }
}

/**
 * What is wrong with the build in `dir` (empty when it is complete): both binaries run and report the pinned
 * version, and both schema folders exist.
 */
export function checkServerBuild(dir: string): string[] {
  const build = serverBuildIn(dir);
  const problems: string[] = [];
  for (const binary of [build.server, build.sqlTool]) {
    if (!isExecutable(binary)) {
      problems.push(`${binary} is not an executable file`);
      continue;
    }
    const answer = spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: 30_000 });
    const printed = `${answer.stdout ?? ''}${answer.stderr ?? ''}`.trim();
    if (answer.status !== 0) problems.push(`${binary} --version failed: ${answer.error?.message ?? printed}`);
    else if (binary === build.server && !printed.includes(TEMPORAL_SERVER_VERSION))
      problems.push(`${binary} is not version ${TEMPORAL_SERVER_VERSION} (it says "${printed}")`);
  }
  for (const folder of [build.schema.main, build.schema.visibility]) {
    if (!existsSync(path.join(folder, 'v1.0'))) problems.push(`${folder} holds no versioned schema`);
  }
  return problems;
}

/** The build in `dir`, or an error that says what is missing and how to build it. */
export function requireServerBuild(dir = serverDir): ServerBuild {
  const problems = checkServerBuild(dir);
  if (problems.length > 0) throw new TemporalServerMissingError(problems);
  return serverBuildIn(dir);
}
