/** `snow-ticket password reset` as an operator runs it: a child process against a worker and the simulator. */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { tempDir, writeJson } from '../helpers/files';
import { runCli, type CliResult } from '../helpers/cli';
import { CONNECTION } from '../helpers/provisioning';
import { createTimeSkippingEnv } from '../helpers/temporal';
import { expectNoSecret } from '../helpers/secretScan';
import {
  PASSWORD_RESOURCE_TYPE,
  PAYLOAD_KEY,
  PLAIN_CONNECTION,
  usePasswordStack,
} from '../workflows/passwordReset/stack';
import type { ProvisioningResult } from '../../src/contract/provisioning';

const PASSWORD = 'Cli-"Pa55"&word/+é';

describe('snow-ticket password reset', () => {
  const stack = usePasswordStack(createTimeSkippingEnv, 'pw-cli');
  const dir = tempDir();
  const outputs: CliResult[] = [];
  let settingsFile: string;
  let noKeyFile: string;
  let sysId: string;

  before(async () => {
    const temporal = {
      Address: stack.env.address,
      Namespace: stack.env.namespace ?? 'default',
      TaskQueue: stack.taskQueue,
    };
    const connections = {
      [CONNECTION]: { Server: stack.sim.tableApiUrl, Login: 'unused', Password: 'unused-by-the-cli' },
      [PLAIN_CONNECTION]: { Server: stack.sim.tableApiUrl, Login: 'unused', Password: 'unused-by-the-cli' },
    };
    // The CLI routes orders by the mappings' Password settings: it needs the worker's mappings.
    const mappings = {
      [PASSWORD_RESOURCE_TYPE]: {
        Connection: CONNECTION,
        CallerId: 'admin',
        TitleTemplate: 't',
        DescriptionTemplate: 'd',
        Password: { Attribute: 'InitialPassword', UserAttribute: 'Login' },
      },
    };
    settingsFile = writeJson(dir, 'settings.json', {
      Connections: connections,
      TicketConnector: {
        DataDirectory: dir,
        Temporal: temporal,
        Encryption: { Keys: { k1: PAYLOAD_KEY }, ActiveKey: 'k1' },
        ResourceTypeMappings: mappings,
      },
    });
    noKeyFile = writeJson(dir, 'no-key.json', {
      Connections: connections,
      TicketConnector: { DataDirectory: dir, Temporal: temporal, ResourceTypeMappings: mappings },
    });
    sysId = (await stack.create('sys_user', { user_name: 'pw.cli' })).sys_id ?? '';
  });

  async function cli(args: readonly string[], input?: string, file = settingsFile): Promise<CliResult> {
    const result = await runCli(['--config', file, 'password', 'reset', ...args], { input });
    outputs.push(result);
    return result;
  }

  test('sets the password read from standard input and prints the user, never the password', async () => {
    const result = await cli(
      ['--connection', CONNECTION, '--user-name', 'pw.cli', '--password-stdin'],
      `${PASSWORD}\n`,
    );
    assert.equal(result.status, 0, result.stderr);
    assert.match(
      result.stdout,
      new RegExp(`Password set for pw\\.cli \\(sys_id ${sysId}\\) on connection Sim`),
    );
    assert.match(result.stdout, /password_needs_reset: true/);
    const row = await stack.call(`/api/now/table/sys_user/${sysId}?sysparm_fields=password_needs_reset`);
    assert.equal(
      ((await row.json()) as { result: Record<string, string> }).result.password_needs_reset,
      'true',
    );
  });

  test('reads the password from a file (one trailing line break dropped), and prints JSON when asked', async () => {
    const file = writeJson(dir, 'pw.txt', `${PASSWORD}\r\n`);
    const result = await cli([
      '--connection',
      CONNECTION,
      '--sys-id',
      sysId,
      '--password-file',
      file,
      '--json',
    ]);
    assert.equal(result.status, 0, result.stderr);
    const outcome = JSON.parse(result.stdout) as {
      result: { userName: string; passwordNeedsReset: boolean };
    };
    assert.equal(outcome.result.userName, 'pw.cli');
    assert.equal(outcome.result.passwordNeedsReset, true);
  });

  test('says which refusal it was: unknown user, rejected by policy, not allowed (exit 1)', async () => {
    const unknown = await cli(
      ['--connection', CONNECTION, '--user-name', 'pw.ghost', '--password-stdin'],
      PASSWORD,
    );
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /^Unknown user: No ServiceNow user with user_name pw\.ghost/m);
    const weak = await cli(['--connection', CONNECTION, '--sys-id', sysId, '--password-stdin'], 'abcdefgh');
    assert.equal(weak.status, 1);
    assert.match(weak.stderr, /^Rejected by the password policy: /m);
    const denied = await cli(
      ['--connection', PLAIN_CONNECTION, '--sys-id', sysId, '--password-stdin'],
      PASSWORD,
    );
    assert.equal(denied.status, 1);
    assert.match(denied.stderr, /^Not allowed: /m);
  });

  test('without an active payload key it refuses with exit 2 and sends nothing', async () => {
    const result = await cli(
      ['--connection', CONNECTION, '--user-name', 'pw.cli', '--password-stdin'],
      PASSWORD,
      noKeyFile,
    );
    assert.equal(result.status, 2);
    assert.match(result.stderr, /needs payload encryption, and no key is active/);
  });

  test('never takes the password on the command line, and needs one from somewhere', async () => {
    const argv = await cli(['--connection', CONNECTION, '--user-name', 'pw.cli', '--password', PASSWORD]);
    assert.equal(argv.status, 2);
    assert.match(argv.stderr, /unknown option '--password'/);
    const none = await cli(['--connection', CONNECTION, '--user-name', 'pw.cli']);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /give --password-file <file> or --password-stdin/);
    const both = await cli(
      ['--connection', CONNECTION, '--user-name', 'pw.cli', '--sys-id', sysId, '--password-stdin'],
      PASSWORD,
    );
    assert.equal(both.status, 2);
  });

  test('provision sends an order that carries a password to the password queue, encrypted; without a key it refuses', async () => {
    await stack.create('sys_user', { user_name: 'pw.provisioned' });
    const order = writeJson(dir, 'order.json', {
      connection: CONNECTION,
      order: {
        AssignedResourceTypeId: `cli-pw-${process.pid}`,
        ChangeType: 'Modified',
        Owner: { Id: 7 },
        ResourceType: { Identifier: PASSWORD_RESOURCE_TYPE },
        Changes: { InitialPassword: PASSWORD, Login: 'pw.provisioned' },
      },
    });
    const refused = await runCli(['--config', noKeyFile, 'provision', order, '--json']);
    outputs.push(refused);
    assert.equal(refused.status, 1);
    assert.match(
      refused.stderr,
      /carries a password \(Changes\.InitialPassword\), which travels only encrypted/,
    );
    const started = await runCli(['--config', settingsFile, 'provision', order, '--json']);
    outputs.push(started);
    assert.equal(started.status, 0, started.stderr);
    const [{ workflowId }] = JSON.parse(started.stdout) as [{ workflowId: string }];
    const result = (await stack.client.workflow.getHandle(workflowId).result()) as ProvisioningResult;
    assert.equal(result.provisioningState, 'Executed');
    assert.equal(result.resolution, 'password-set');
    const description = await stack.env.client.workflow.getHandle(workflowId).describe();
    assert.equal(description.taskQueue, 'pw-cli-passwords');
  });

  test('no output of any run holds the password', () => {
    assert.ok(outputs.length >= 10);
    for (const [index, output] of outputs.entries()) {
      // The argv run echoes nothing of its arguments but the option name.
      expectNoSecret(output.stdout + output.stderr, [PASSWORD, 'abcdefgh'], `the output of run ${index + 1}`);
    }
  });
});
