import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

/**
 * Finds PostgreSQL's server programs (initdb, postgres), installing Debian's `postgresql` package with apt-get
 * when they are missing and this process is root (CI, the dev container). Anywhere else the error says what to
 * install, so that the cluster test never silently skips.
 */

const DEBIAN_ROOT = '/usr/lib/postgresql';
const PROGRAMS = ['initdb', 'postgres'] as const;

export class PostgresMissingError extends Error {
  constructor(detail: string) {
    super(
      `PostgreSQL's server programs (initdb, postgres) are missing: ${detail}. Install PostgreSQL 12 or later ` +
        '(Debian: apt-get install -y postgresql) or set POSTGRES_BIN_DIR to the folder holding initdb and postgres.',
    );
    this.name = 'PostgresMissingError';
  }
}

function hasPrograms(dir: string): boolean {
  return PROGRAMS.every((program) => existsSync(path.join(dir, program)));
}

/** POSTGRES_BIN_DIR, else the newest Debian install, else a folder on PATH. */
export function findPostgresBinDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.POSTGRES_BIN_DIR) return hasPrograms(env.POSTGRES_BIN_DIR) ? env.POSTGRES_BIN_DIR : undefined;
  if (existsSync(DEBIAN_ROOT)) {
    const versions = readdirSync(DEBIAN_ROOT)
      .filter((name) => /^\d+$/.test(name))
      .sort((a, b) => Number(b) - Number(a));
    for (const version of versions) {
      const dir = path.join(DEBIAN_ROOT, version, 'bin');
      if (hasPrograms(dir)) return dir;
    }
  }
  return (env.PATH ?? '').split(path.delimiter).find((dir) => dir !== '' && hasPrograms(dir));
}

function aptGet(args: string[], log: (line: string) => void): boolean {
  log(`apt-get ${args.join(' ')}`);
  const result = spawnSync('apt-get', args, {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return result.status === 0;
}

/** The folder of initdb and postgres, installed first if need be (root with apt-get only). */
export function ensurePostgres(log: (line: string) => void): string {
  const found = findPostgresBinDir();
  if (found !== undefined) return found;
  if (process.env.POSTGRES_BIN_DIR)
    throw new PostgresMissingError(`not in POSTGRES_BIN_DIR=${process.env.POSTGRES_BIN_DIR}`);
  if (!existsSync('/usr/bin/apt-get')) throw new PostgresMissingError('this machine has no apt-get');
  if (process.getuid?.() !== 0) throw new PostgresMissingError('installing them needs root');
  // The package lists may be absent in a fresh container; the update is only needed then, but is cheap.
  if (!aptGet(['update', '-qq'], log))
    log('apt-get update failed; trying the install with the lists at hand');
  if (!aptGet(['install', '-y', '--no-install-recommends', 'postgresql'], log))
    throw new PostgresMissingError('apt-get install postgresql failed');
  const installed = findPostgresBinDir();
  if (installed === undefined) throw new PostgresMissingError('the postgresql package installed none');
  return installed;
}
