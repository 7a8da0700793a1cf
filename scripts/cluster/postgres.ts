import { spawnSync } from 'node:child_process';
import { chownSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { startChild, type Child } from '../chaos/children';
import { freePort } from '../chaos/temporalServer';

/** The database role Temporal connects as: the cluster's superuser, trusted on loopback only. */
export const POSTGRES_USER = 'temporal';
const READY_TIMEOUT_MS = 60_000;

export interface RunningPostgres {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly child: Child;
  stop(): Promise<void>;
}

/** PostgreSQL refuses to run as root: as root, the server runs as the `postgres` OS user that Debian creates. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  const [uid, gid] = [id('-u'), id('-g')];
  if (uid.status !== 0 || gid.status !== 0) {
    throw new Error('Running as root, PostgreSQL needs the `postgres` OS user, which does not exist here');
  }
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/**
 * A throwaway PostgreSQL server: a new cluster in `dir/pgdata` (which must be reachable by the `postgres` user
 * when running as root), listening on a free loopback port only, with durability off since the data dies
 * with the test. Resolves once it accepts connections.
 */
export async function startPostgres(binDir: string, dir: string, logDir: string): Promise<RunningPostgres> {
  const user = serverUser();
  const dataDir = path.join(dir, 'pgdata');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (user !== undefined) chownSync(dataDir, user.uid, user.gid);

  // prettier-ignore
  const initdb = spawnSync(path.join(binDir, 'initdb'), [
    '-D', dataDir, '-U', POSTGRES_USER, '--auth=trust', '-E', 'UTF8', '--no-sync', '--locale=C',
  ], { encoding: 'utf8', cwd: dataDir, timeout: 120_000, ...user });
  if (initdb.status !== 0) {
    throw new Error(`initdb failed (${initdb.error?.message ?? `exit ${initdb.status}`}): ${initdb.stderr}`);
  }

  const port = await freePort();
  // prettier-ignore
  const args = [
    '-D', dataDir, '-h', '127.0.0.1', '-p', String(port), '-k', dataDir,
    '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
    '-c', 'max_connections=300',
  ];
  const child = startChild('postgres', path.join(binDir, 'postgres'), args, {
    logFile: path.join(logDir, 'postgres.log'),
    ...(user === undefined ? {} : { user }),
  });
  try {
    await child.waitForLine(/database system is ready to accept connections/, READY_TIMEOUT_MS);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    host: '127.0.0.1',
    port,
    user: POSTGRES_USER,
    child,
    // SIGTERM is PostgreSQL's "smart" shutdown, which waits for clients: SIGINT ("fast") does not.
    stop: async () => {
      child.kill('SIGINT');
      await child.stop(15_000);
    },
  };
}
