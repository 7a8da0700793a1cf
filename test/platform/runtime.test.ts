import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { tempDir } from '../helpers/files';

const repoRoot = path.resolve(__dirname, '..', '..');
const setupScript = path.join(repoRoot, 'scripts', 'setup-node.js');

function read(file: string): string {
  return readFileSync(path.join(repoRoot, file), 'utf8');
}

function capture(file: string, pattern: RegExp): string {
  const found = pattern.exec(read(file))?.[1];
  assert.ok(found, `${file} has nothing matching ${pattern}`);
  return found;
}

const pinnedVersion = capture('scripts/setup-node.js', /^const NODE_VERSION = '(\d+\.\d+\.\d+)';$/m);

interface Version {
  major: number;
  minor: number;
  patch: number;
}

function parseVersion(text: string): Version {
  const [major, minor, patch] = text.replace(/^v/, '').split('.').map(Number);
  return { major: major ?? NaN, minor: minor ?? NaN, patch: patch ?? NaN };
}

/** engines.node as caret ranges: the only form the project writes, so anything else is a mistake here. */
function engineRanges(): Version[] {
  const range = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
  return range.split('||').map((part) => {
    const caret = /^\^(\d+\.\d+\.\d+)$/.exec(part.trim())?.[1];
    assert.ok(caret, `package.json engines.node: "${part.trim()}" is not of the form ^major.minor.patch`);
    return parseVersion(caret);
  });
}

function satisfiesEngines(version: Version): boolean {
  return engineRanges().some(
    (lowest) =>
      version.major === lowest.major &&
      (version.minor > lowest.minor || (version.minor === lowest.minor && version.patch >= lowest.patch)),
  );
}

describe('the supported Node runtime', () => {
  test('package.json engines, the Dockerfile, .ci/run and scripts/setup-node.js name the same major', () => {
    const supported = {
      'scripts/setup-node.js NODE_VERSION': parseVersion(pinnedVersion).major,
      'package.json engines (newest line)': Math.max(...engineRanges().map((range) => range.major)),
      'Dockerfile NODE_IMAGE': Number(capture('Dockerfile', /^ARG NODE_IMAGE=node:(\d+)-/m)),
      '.ci/run version check': Number(capture('.ci/run', /"\$\(node --version\)" != v(\d+)\.\*/)),
    };
    assert.equal(
      new Set(Object.values(supported)).size,
      1,
      `the Node major differs: ${JSON.stringify(supported)}`,
    );
  });

  test('the pinned release is one that package.json engines admits', () => {
    assert.ok(satisfiesEngines(parseVersion(pinnedVersion)), `${pinnedVersion} is outside engines`);
  });

  test('.ci/run switches to it before installing dependencies', () => {
    const lines = read('.ci/run').split('\n');
    const setup = lines.findIndex((line) => line.includes('node scripts/setup-node.js'));
    const install = lines.findIndex((line) => line.startsWith('npm ci'));
    assert.ok(setup >= 0, '.ci/run does not run scripts/setup-node.js');
    assert.ok(install > setup, '.ci/run runs npm ci before switching Node');
  });

  test('the Node running the tests satisfies package.json engines', () => {
    assert.ok(
      satisfiesEngines(parseVersion(process.version)),
      `Node ${process.version} is outside package.json engines: run \`eval "$(npm run --silent setup:node)"\``,
    );
  });
});

/**
 * A stand-in for `npm pack` that packs a node package made by the test, so the installer runs for real (tar,
 * staging, version check, printed shell lines) without the registry.
 */
function fakeRegistry(nodeReports: string): {
  env: NodeJS.ProcessEnv;
  toolsDir: string;
  npmCalls: () => string[];
} {
  const dir = tempDir();
  const fakeBin = path.join(dir, 'fake-bin');
  const packageDir = path.join(dir, 'registry', 'package');
  const npmLog = path.join(dir, 'npm.log');
  mkdirSync(fakeBin, { recursive: true });
  mkdirSync(path.join(packageDir, 'bin'), { recursive: true });
  mkdirSync(path.join(packageDir, 'include', 'node'), { recursive: true });
  writeFileSync(path.join(packageDir, 'include', 'node', 'node_api.h'), '/* headers */\n');
  writeFileSync(path.join(packageDir, 'bin', 'node'), `#!/bin/sh\necho ${nodeReports}\n`);
  chmodSync(path.join(packageDir, 'bin', 'node'), 0o755);
  // Called as: npm pack <spec> --pack-destination <dir> --silent
  writeFileSync(
    path.join(fakeBin, 'npm'),
    [
      '#!/bin/sh',
      `echo "$*" >> '${npmLog}'`,
      'if [ -n "$FAKE_NPM_ERROR" ]; then echo "$FAKE_NPM_ERROR" >&2; exit 1; fi',
      `tar -czf "$4/package.tgz" -C '${path.dirname(packageDir)}' package`,
      '',
    ].join('\n'),
  );
  chmodSync(path.join(fakeBin, 'npm'), 0o755);
  // A space and a quote in the install path: the printed shell lines must still eval to the right folder.
  const toolsDir = path.join(dir, "tools o'node");
  return {
    env: {
      ...process.env,
      PATH: `${fakeBin}${path.delimiter}${process.env.PATH ?? ''}`,
      NODE_TOOLS_DIR: toolsDir,
    },
    toolsDir,
    npmCalls: () => (existsSync(npmLog) ? readFileSync(npmLog, 'utf8').trim().split('\n') : []),
  };
}

function runSetup(env: NodeJS.ProcessEnv) {
  return spawnSync(process.execPath, [setupScript], { env, encoding: 'utf8' });
}

describe('scripts/setup-node.js', () => {
  test('installs the pinned release from its npm package and prints lines that put it first on PATH', () => {
    const registry = fakeRegistry(`v${pinnedVersion}`);
    const installDir = path.join(registry.toolsDir, `v${pinnedVersion}`);
    const shell = spawnSync(
      'bash',
      [
        '-c',
        'eval "$("$SETUP_NODE" "$SETUP_SCRIPT")" && command -v node && node --version && echo "$npm_config_nodedir"',
      ],
      { env: { ...registry.env, SETUP_NODE: process.execPath, SETUP_SCRIPT: setupScript }, encoding: 'utf8' },
    );
    assert.equal(shell.status, 0, shell.stderr);
    assert.deepEqual(shell.stdout.trim().split('\n'), [
      path.join(installDir, 'bin', 'node'),
      `v${pinnedVersion}`,
      installDir,
    ]);
    const [call, ...more] = registry.npmCalls();
    assert.deepEqual(more, []);
    assert.match(call ?? '', new RegExp(`^pack node-${process.platform}-${process.arch}@${pinnedVersion} `));
    assert.deepEqual(readdirSync(registry.toolsDir), [`v${pinnedVersion}`], 'the staging folder is removed');
  });

  test('an installed release is used again without asking the registry', () => {
    const registry = fakeRegistry(`v${pinnedVersion}`);
    assert.equal(runSetup(registry.env).status, 0);
    const again = runSetup(registry.env);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(registry.npmCalls().length, 1);
    assert.equal(again.stderr, '');
  });

  test('a package whose node reports another version is refused and nothing is installed', () => {
    const registry = fakeRegistry('v0.0.1');
    const result = runSetup(registry.env);
    assert.equal(result.status, 1);
    assert.match(
      result.stderr,
      new RegExp(`reports v0\\.0\\.1, not v${pinnedVersion.replaceAll('.', '\\.')}`),
    );
    assert.equal(result.stdout, '', 'no shell lines to eval');
    assert.deepEqual(readdirSync(registry.toolsDir), []);
  });

  test('a platform without a published package is told to install Node itself', () => {
    const registry = fakeRegistry(`v${pinnedVersion}`);
    const preload = path.join(registry.toolsDir, '..', 'riscv.js');
    writeFileSync(preload, "Object.defineProperty(process, 'arch', { value: 'riscv64' });\n");
    const result = spawnSync(process.execPath, ['--require', preload, setupScript], {
      env: registry.env,
      encoding: 'utf8',
    });
    assert.equal(result.status, 1);
    assert.match(
      result.stderr,
      new RegExp(
        `no node package is published for ${process.platform}-riscv64: install Node ${pinnedVersion}`,
      ),
    );
    assert.deepEqual(registry.npmCalls(), []);
  });

  test("a registry failure is reported with npm's own message", () => {
    const registry = fakeRegistry(`v${pinnedVersion}`);
    const result = runSetup({ ...registry.env, FAKE_NPM_ERROR: 'npm error 404 Not Found' });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /npm pack node-\S+ .* exited with 1:\nnpm error 404 Not Found/);
    assert.equal(result.stdout, '');
    assert.deepEqual(readdirSync(registry.toolsDir), []);
  });
});
