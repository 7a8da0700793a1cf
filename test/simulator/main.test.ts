import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, test } from 'node:test';
import { basicAuthorization } from '../helpers/simulator';

/**
 * `npm run servicenow:sim` as an operator runs it: a child process, whose whole output (startup lines, request
 * log, shutdown) is scanned for the secrets it was given.
 */

const root = path.join(__dirname, '..', '..');
const main = path.join(root, 'src', 'simulator', 'main.ts');

const SECRETS = {
  password: 'Admin-password-1/+=&',
  clientSecret: 'Client-secret-2/+=&',
  notifySecret: 'Notify-secret-3/+=&',
};

interface RunningSimulator {
  readonly url: string;
  /** What it printed until it was ready. */
  readonly startupOutput: string;
  /** Stops the process and returns everything it wrote to stdout and stderr. */
  readonly stop: () => Promise<string>;
}

/** Starts the simulator's own entry point on a free port, without the caller's SNOW_SIM_* variables. */
async function runMain(args: readonly string[], env: Record<string, string> = {}): Promise<RunningSimulator> {
  const cleanEnv = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('SNOW_SIM_')),
  );
  const child = spawn(process.execPath, ['--import', 'tsx', main, '--port', '0', ...args], {
    cwd: root,
    env: { ...cleanEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const started = new Promise<string>((resolve, reject) => {
    const collect = (chunk: string) => {
      output += chunk;
      const ready = /listening on (\S+)[\s\S]*Operate it/.exec(output);
      if (ready?.[1] !== undefined) resolve(ready[1]);
    };
    child.stdout.setEncoding('utf8').on('data', collect);
    child.stderr.setEncoding('utf8').on('data', collect);
    void exited.then((code) =>
      reject(new Error(`the simulator exited (${code}) before it started:\n${output}`)),
    );
  });
  const stop = async () => {
    child.kill('SIGTERM');
    await exited;
    return output;
  };
  try {
    return { url: await started, startupOutput: output, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The secret as it could leak: verbatim, URL-encoded, in a Basic header, in base64. */
function formsOf(login: string, secret: string): string[] {
  return [
    secret,
    encodeURIComponent(secret),
    basicAuthorization(login, secret).slice('Basic '.length),
    Buffer.from(secret).toString('base64'),
  ];
}

/** Uses every secret once (Basic login, OAuth password grant, a ticket change that is pushed), then stops. */
async function exerciseAndStop(simulator: RunningSimulator): Promise<string> {
  try {
    const authorization = basicAuthorization('admin', SECRETS.password);
    const created = await fetch(`${simulator.url}/api/now/table/incident`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body: '{"short_description":"pushed"}',
    });
    assert.equal(created.status, 201, 'the given admin password is in effect');
    const token = await fetch(`${simulator.url}/oauth_token.do`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: 'sim-client',
        client_secret: SECRETS.clientSecret,
        username: 'admin',
        password: SECRETS.password,
      }).toString(),
    });
    assert.equal(token.status, 200, 'the given client secret is in effect');
  } catch (error) {
    await simulator.stop();
    throw error;
  }
  return simulator.stop();
}

function assertNoSecret(output: string): void {
  for (const [name, secret] of Object.entries(SECRETS)) {
    for (const form of formsOf('admin', secret)) {
      assert.ok(!output.includes(form), `the output shows the ${name} (${form}):\n${output}`);
    }
  }
}

describe('servicenow-sim (the standalone simulator)', () => {
  const pushArgs = ['--client-id', 'sim-client', '--notify-url', 'http://127.0.0.1:9/events', '--verbose'];

  test('secrets from the environment are used, and the output only says where they came from', async () => {
    const output = await exerciseAndStop(
      await runMain(pushArgs, {
        SNOW_SIM_PASSWORD: SECRETS.password,
        SNOW_SIM_CLIENT_SECRET: SECRETS.clientSecret,
        SNOW_SIM_NOTIFY_SECRET: SECRETS.notifySecret,
      }),
    );
    assertNoSecret(output);
    assert.match(output, /Login +admin \/ \(as given in \$SNOW_SIM_PASSWORD\)/);
    assert.match(output, /OAuth client +sim-client \/ \(as given in \$SNOW_SIM_CLIENT_SECRET\)/);
  });

  test('secrets given as options are used, and the output only says where they came from', async () => {
    const output = await exerciseAndStop(
      await runMain([
        ...pushArgs,
        '--admin-password',
        SECRETS.password,
        '--client-secret',
        SECRETS.clientSecret,
        '--notify-secret',
        SECRETS.notifySecret,
      ]),
    );
    assertNoSecret(output);
    assert.match(output, /Login +admin \/ \(as given in --admin-password\)/);
    assert.match(output, /OAuth client +sim-client \/ \(as given in --client-secret\)/);
  });

  test('secrets it generated are printed, as the README says, since nobody could use them otherwise', async () => {
    const simulator = await runMain([]);
    try {
      const password = /Login +admin \/ (\S+)/.exec(simulator.startupOutput)?.[1] ?? '';
      const response = await fetch(`${simulator.url}/sim/admin/stats`, {
        headers: { authorization: basicAuthorization('admin', password) },
      });
      assert.equal(response.status, 200, simulator.startupOutput);
      assert.match(simulator.startupOutput, /OAuth client +[0-9a-f]{32} \/ [^(\s]{12,}\n/);
    } finally {
      await simulator.stop();
    }
  });
});
