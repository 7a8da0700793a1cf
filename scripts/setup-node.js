#!/usr/bin/env node
/**
 * Installs the supported Node.js runtime into .node/ for machines whose own Node is older (CI's is 20).
 *
 *   eval "$(node scripts/setup-node.js)"
 *
 * The official binaries and headers are published on the npm registry as node-<os>-<cpu> packages, the one
 * place besides the package registries that CI reaches. Prints the shell lines that put this Node first on
 * PATH and point node-gyp at its headers: npm ci builds better-sqlite3 from source under it, and node-gyp
 * would otherwise download headers from nodejs.org (unreachable) or use a machine-wide `nodedir` of another
 * Node, whose ABI differs. Everything else goes to stderr. Quick (no network) when the version is installed.
 *
 * Plain JavaScript without dependencies: it runs before `npm ci`, under whatever Node the machine has.
 */
const { spawnSync } = require('node:child_process');
const { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } = require('node:fs');
const path = require('node:path');

/**
 * The supported runtime, pinned to a patch release so that every CI run tests the same binary. package.json
 * `engines`, the Dockerfile's NODE_IMAGE and .ci/run name the same major (test/platform/runtime.test.ts).
 */
const NODE_VERSION = '24.22.3';

/**
 * The platforms whose package is published for this release (the darwin packages lag behind or stopped); on
 * others, developers install Node themselves.
 */
const PACKAGE_PLATFORMS = { linux: ['x64', 'arm64'] };

const toolsDir = process.env.NODE_TOOLS_DIR || path.join(__dirname, '..', '.node');
const installDir = path.join(toolsDir, `v${NODE_VERSION}`);

function log(line) {
  process.stderr.write(`[setup-node] ${line}\n`);
}

class SetupError extends Error {}

function fail(message) {
  throw new SetupError(message);
}

function run(command, args) {
  const result = spawnSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.error) fail(`${command} ${args.join(' ')} could not start: ${result.error.message}`);
  if (result.status !== 0) {
    fail(`${command} ${args.join(' ')} exited with ${result.status}:\n${result.stderr.trim()}`);
  }
}

function installedVersion(dir) {
  const node = path.join(dir, 'bin', 'node');
  if (!existsSync(node)) return undefined;
  const result = spawnSync(node, ['--version'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

function packageName() {
  const { platform, arch } = process;
  if (!(PACKAGE_PLATFORMS[platform] ?? []).includes(arch)) {
    fail(
      `no node package is published for ${platform}-${arch}: install Node ${NODE_VERSION} yourself ` +
        '(https://nodejs.org) and put it first on PATH.',
    );
  }
  return `node-${platform}-${arch}`;
}

/** Unpacks into a staging folder beside the target, so that an interrupted install never looks complete. */
function install() {
  const spec = `${packageName()}@${NODE_VERSION}`;
  mkdirSync(toolsDir, { recursive: true });
  const staging = mkdtempSync(path.join(toolsDir, '.staging-'));
  try {
    log(`downloading ${spec} from the npm registry`);
    run('npm', ['pack', spec, '--pack-destination', staging, '--silent']);
    const tarball = readdirSync(staging).find((name) => name.endsWith('.tgz'));
    if (!tarball) fail(`npm pack ${spec} left no tarball in ${staging}`);
    const unpacked = path.join(staging, 'node');
    mkdirSync(unpacked);
    run('tar', ['-xzf', path.join(staging, tarball), '-C', unpacked, '--strip-components=1']);
    const version = installedVersion(unpacked);
    if (version !== `v${NODE_VERSION}`) {
      fail(`${spec} unpacked a node that reports ${version ?? 'nothing'}, not v${NODE_VERSION}`);
    }
    if (!existsSync(path.join(unpacked, 'include', 'node', 'node_api.h'))) {
      fail(`${spec} has no include/node headers, which node-gyp needs to build better-sqlite3`);
    }
    rmSync(installDir, { recursive: true, force: true });
    renameSync(unpacked, installDir);
    log(`installed Node ${NODE_VERSION} into ${installDir}`);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

function shellQuote(value) {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

try {
  if (installedVersion(installDir) !== `v${NODE_VERSION}`) install();
} catch (error) {
  if (!(error instanceof SetupError)) throw error;
  log(error.message);
  process.exit(1);
}
process.stdout.write(
  [
    `export PATH=${shellQuote(path.join(installDir, 'bin'))}:"$PATH"`,
    `export npm_config_nodedir=${shellQuote(installDir)}`,
    '',
  ].join('\n'),
);
