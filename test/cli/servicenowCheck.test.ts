import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { tempDir, writeJson } from '../helpers/files';
import { useSimulator } from '../helpers/simulator';

const cli = path.join(__dirname, '..', '..', 'bin', 'snow-ticket.js');
const PASSWORD = 'Check-Pa55word-Of-Admin';

/** Asynchronous on purpose: the simulator answering the CLI runs in this process. */
async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [cli, ...args], {
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('snow-ticket servicenow check', () => {
  const fixture = useSimulator({ admin: { password: PASSWORD } });
  const dir = tempDir();
  const config = (password: string) =>
    writeJson(dir, `settings-${password.length}.json`, {
      Connections: { Main: { Server: fixture.sim.tableApiUrl, Login: 'admin', Password: password } },
    });

  test('reports each table the connection may read', async () => {
    const result = await run('--config', config(PASSWORD), 'servicenow', 'check');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Main \(http:\/\/127\.0\.0\.1:\d+\/api\/now\/table, Basic\)$/m);
    for (const table of ['incident', 'sc_request', 'sys_user', 'sys_user_grmember']) {
      assert.match(result.stdout, new RegExp(`^  ok    ${table}`, 'm'));
    }
  });

  test('wrong credentials fail every table, exit 1, and never print the password', async () => {
    const wrong = `${PASSWORD}-wrong`;
    const result = await run('--config', config(wrong), 'servicenow', 'check');
    assert.equal(result.code, 1);
    assert.match(
      result.stdout,
      /FAIL {2}incident: ServiceNow list on incident failed with HTTP 401: User Not Authenticated/,
    );
    assert.match(result.stderr, /7 checks failed/);
    assert.ok(!`${result.stdout}${result.stderr}`.includes(wrong));
  });

  test('an unknown connection is named with the defined ones', async () => {
    const result = await run('--config', config(PASSWORD), 'servicenow', 'check', '--connection', 'Nope');
    assert.equal(result.code, 2);
    assert.match(result.stderr, /Connection 'Nope' is not defined under Connections \(defined: Main\)/);
  });
});
