import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { simulatorCredentialsFile } from '../../src/stack/localSimulator';
import { tempDir, writeJson } from '../helpers/files';
import { useSimulator } from '../helpers/simulator';

/**
 * `snow-ticket sim ...` as an operator runs it: a child process talking HTTP to a simulator in this process
 * (so the child is spawned asynchronously: a blocking spawn would stall the simulator it talks to).
 */

const cli = path.join(__dirname, '..', '..', 'bin', 'snow-ticket.js');

interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs in an empty folder by default, without the caller's simulator or connector variables: the password
 * fallback must not find this checkout's settings or a `data/` left by `npm start`.
 */
function run(
  args: readonly string[],
  env: Record<string, string> = {},
  cwd: string = tempDir(),
): Promise<CliResult> {
  const cleanEnv = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^SNOW_(SIM|CONNECTOR)_/.test(name)),
  );
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cli, ...args],
      { encoding: 'utf8', timeout: 120_000, env: { ...cleanEnv, ...env }, cwd },
      (error, stdout, stderr) => {
        const status = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolve({ status, stdout, stderr });
      },
    );
  });
}

describe('snow-ticket sim', () => {
  const snow = useSimulator();
  const sim = (...args: string[]) =>
    run(['sim', ...args], { SNOW_SIM_URL: snow.sim.url, SNOW_SIM_PASSWORD: snow.sim.credentials.password });

  test('--help describes the sim commands', async () => {
    for (const command of [[], ['tickets'], ['close'], ['faults']]) {
      const result = await run(['sim', ...command, '--help']);
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`^Usage: snow-ticket sim ${command.join(' ')}`.trimEnd()));
    }
  });

  test('tickets lists open tickets as a table', async () => {
    await snow.create('incident', { short_description: 'Grant Payroll access', correlation_id: 'order-42' });
    const result = await sim('tickets');
    assert.equal(result.status, 0, result.stderr);
    const [header, row] = result.stdout.trimEnd().split('\n');
    assert.match(header ?? '', /^NUMBER\s+TABLE\s+STATE\s+SHORT DESCRIPTION\s+CORRELATION ID\s+UPDATED$/);
    assert.match(
      row ?? '',
      /^INC0010001\s+incident\s+New\s+Grant Payroll access\s+order-42\s+\d{4}-\d\d-\d\d /,
    );
  });

  test('close closes the ticket through the business rules', async () => {
    const result = await sim(
      'close',
      'INC0010001',
      '--notes',
      'Access granted',
      '--code',
      'Solved (Permanently)',
    );
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /INC0010001 is Closed/);
    const check = await snow.call('/api/now/table/incident?sysparm_query=number=INC0010001');
    const [incident] = ((await check.json()) as { result: Record<string, string>[] }).result;
    assert.equal(incident?.state, '7');
    assert.equal(incident?.close_notes, 'Access granted');
    assert.equal(incident?.active, 'false');
    assert.match((await sim('tickets', '--state', 'closed')).stdout, /INC0010001\s+incident\s+Closed/);
  });

  test('show prints the fields and the journal', async () => {
    await sim('work', 'INC0010001', '--notes', 'Reopened for a check');
    const result = await sim('show', 'INC0010001');
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^close_notes\s+Access granted$/m);
    assert.match(result.stdout, /\(work_notes\): Reopened for a check/);
  });

  test('seed and stats', async () => {
    const seeded = await sim('seed', '--users', '20', '--groups', '4', '--memberships-per-user', '2');
    assert.equal(seeded.status, 0, seeded.stderr);
    assert.match(seeded.stdout, /^Seeded 20 users, 4 groups, 40 memberships/);
    const stats = await sim('stats');
    assert.equal(stats.status, 0, stats.stderr);
    assert.match(stats.stdout, /^GET incident\s+1$/m);
    assert.match(stats.stdout, /^sys_user_grmember\s+40$/m);
  });

  test('faults and hibernate change the simulator', async () => {
    const faults = await sim('faults', '--error-rate', '0.25', '--latency-ms', '5');
    assert.equal(faults.status, 0, faults.stderr);
    assert.match(faults.stdout, /^errorRate\s+0\.25$/m);
    await sim('faults', '--error-rate', '0', '--latency-ms', '0');
    assert.match((await sim('hibernate', 'on')).stdout, /hibernating/);
    assert.match(
      (await snow.call('/api/now/table/incident')).headers.get('content-type') ?? '',
      /text\/html/,
    );
    await sim('hibernate', 'off');
  });

  test('an unknown ticket number is a clear error', async () => {
    const result = await sim('close', 'INC0099999');
    assert.equal(result.status, 1);
    assert.equal(result.stderr.trim(), 'No ticket INC0099999');
  });

  test('wrong credentials, a missing password and an unreachable simulator are clear errors', async () => {
    const wrong = await run(['sim', 'tickets', '--url', snow.sim.url, '--password', 'wrong']);
    assert.equal(wrong.status, 1);
    assert.match(wrong.stderr, /refused the admin credentials of 'admin'/);
    const missing = await run(['sim', 'tickets', '--url', snow.sim.url]);
    assert.equal(missing.status, 2);
    assert.match(
      missing.stderr,
      /^No admin password: none given \(--password or SNOW_SIM_PASSWORD\), and none usable in \/.*\/data\/simulator-credentials\.json, where npm start keeps it/,
    );
    const unreachable = await run(['sim', 'stats', '--url', 'http://127.0.0.1:9', '--password', 'x']);
    assert.equal(unreachable.status, 1);
    assert.match(unreachable.stderr, /^Cannot reach the simulator at http:\/\/127\.0\.0\.1:9/);
  });

  test('a simulator URL holding credentials is refused without repeating them', async () => {
    const url = new URL(snow.sim.url);
    url.username = 'admin';
    url.password = 'Url-secret-7';
    for (const result of [
      await run(['sim', 'stats', '--url', url.href, '--password', 'x']),
      await run(['sim', 'stats', '--password', 'x'], { SNOW_SIM_URL: url.href }),
    ]) {
      assert.equal(result.status, 2);
      assert.match(
        result.stderr,
        /^The simulator URL must not hold credentials: give them with --user and --password/,
      );
      assert.ok(!`${result.stdout}${result.stderr}`.includes('Url-secret-7'), result.stderr);
    }
  });

  describe('without flags, the simulator npm start runs', () => {
    const port = () => new URL(snow.sim.url).port;
    /** A folder laid out as npm start leaves it: the credentials file in the settings' DataDirectory. */
    const stackFolder = (dataDirectory = 'data') => {
      const dir = tempDir();
      mkdirSync(path.join(dir, dataDirectory));
      const credentials = { password: snow.sim.credentials.password, clientSecret: 'unused-by-the-cli' };
      writeFileSync(simulatorCredentialsFile(path.join(dir, dataDirectory)), JSON.stringify(credentials));
      return dir;
    };

    test('is found on SNOW_SIM_PORT with the password from <DataDirectory>/simulator-credentials.json', async () => {
      const result = await run(['sim', 'stats'], { SNOW_SIM_PORT: port() }, stackFolder());
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stdout, /^Requests: \d+/);
    });

    test('the DataDirectory comes from the settings, relative to the working folder', async () => {
      const dir = stackFolder('state');
      writeJson(dir, 'appsettings.agent.json', { TicketConnector: { DataDirectory: 'state' } });
      const result = await run(['sim', 'stats'], { SNOW_SIM_PORT: port() }, dir);
      assert.equal(result.status, 0, result.stderr);
    });

    test('broken settings only matter when the password has to be looked up', async () => {
      const dir = stackFolder();
      writeJson(dir, 'appsettings.agent.json', '{ "TicketConnector": ');
      const explicit = await run(
        ['sim', 'stats', '--url', snow.sim.url, '--password', snow.sim.credentials.password],
        {},
        dir,
      );
      assert.equal(explicit.status, 0, explicit.stderr);
      const fromEnv = await run(
        ['sim', 'stats'],
        { SNOW_SIM_PORT: port(), SNOW_SIM_PASSWORD: snow.sim.credentials.password },
        dir,
      );
      assert.equal(fromEnv.status, 0, fromEnv.stderr);
      const lookedUp = await run(['sim', 'stats'], { SNOW_SIM_PORT: port() }, dir);
      assert.equal(lookedUp.status, 2);
      assert.match(
        lookedUp.stderr,
        /^No admin password: none given .*cannot be located: Invalid configuration in .*appsettings\.agent\.json/s,
      );
    });
  });
});
