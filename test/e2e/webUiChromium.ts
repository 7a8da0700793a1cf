/** Debian's chromium, installed by scripts/setup-chromium.ts; the Web UI check drives it through playwright-core. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** The command that installs it, named in the failure of a test that needs it. */
export const CHROMIUM_SETUP_COMMAND = 'npm run setup:chromium';
