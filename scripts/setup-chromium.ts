/**
 * Installs Debian's `chromium` package when it is missing: the Web UI check (test/e2e/webUi.test.ts) drives
 * the Temporal Web UI in it through playwright-core, which downloads no browser of its own.
 *
 *   npm run setup:chromium
 *
 * Run by `npm test` and .ci/run; quick (no subprocess) when the browser is already there. Installing needs
 * apt-get and root (CI's container and the dev container are root); anywhere else it prints what to run and
 * exits non-zero, so that the test never silently skips.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Debian's chromium; the Web UI check drives it through playwright-core. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** The command that installs it, named in the failure of a test that needs it. */
export const CHROMIUM_SETUP_COMMAND = 'npm run setup:chromium';

function log(line: string): void {
  console.error(`[setup-chromium] ${line}`);
}

function run(command: string, args: string[]): boolean {
  log(`${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (result.error) {
    log(`${command} could not start: ${result.error.message}`);
    return false;
  }
  return result.status === 0;
}

function main(): number {
  if (existsSync(CHROMIUM_PATH)) return 0;
  const manual = `install it yourself: sudo apt-get install -y --no-install-recommends chromium (it must provide ${CHROMIUM_PATH})`;
  if (process.platform !== 'linux' || !existsSync('/usr/bin/apt-get')) {
    log(`${CHROMIUM_PATH} is missing and this machine has no apt-get; ${manual}`);
    return 1;
  }
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    log(`${CHROMIUM_PATH} is missing and installing it needs root; ${manual}`);
    return 1;
  }
  // The package lists may be absent in a fresh container; the update is only needed then, but is cheap.
  if (!run('apt-get', ['update', '-qq']))
    log('apt-get update failed; trying the install with the lists at hand');
  if (!run('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'])) {
    log(`apt-get could not install chromium; ${manual}`);
    return 1;
  }
  if (!existsSync(CHROMIUM_PATH)) {
    log(`the chromium package is installed but ${CHROMIUM_PATH} is still missing; ${manual}`);
    return 1;
  }
  log(`installed ${CHROMIUM_PATH}`);
  return 0;
}

if (require.main === module) process.exit(main());
