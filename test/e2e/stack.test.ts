import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { isListening } from '../../src/stack/devServer';
import { selfCheckWorkflow } from '../../src/workflows';
import { tempDir, writeJson } from '../helpers/files';
import { freePort } from '../helpers/ports';

const root = path.join(__dirname, '..', '..');

interface Stack {
  child: ChildProcess;
  output: () => string;
}

const started: ChildProcess[] = [];
after(() => {
  for (const child of started) if (child.exitCode === null) child.kill('SIGKILL');
});

/** Runs `npm start`'s entry point and waits (bounded) for its ready banner. */
async function startStack(env: NodeJS.ProcessEnv): Promise<Stack> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/stack/start.ts'], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 120_000;
  while (!output.includes('local stack ready')) {
    if (child.exitCode !== null) assert.fail(`the stack exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) assert.fail(`the stack was not ready within 120 s:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { child, output: () => output };
}

async function stopWithCtrlC(stack: Stack): Promise<number | null> {
  const exited = once(stack.child, 'exit');
  stack.child.kill('SIGINT');
  const [code] = (await exited) as [number | null];
  return code;
}

describe('npm start', () => {
  test('brings up the persisted dev server, UI and worker; Ctrl-C stops all; a restart keeps open workflows', async () => {
    const dataDir = tempDir();
    const [grpcPort, uiPort, simPort, codecPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    const env = {
      SNOW_CONNECTOR_CONFIG: writeJson(dataDir, 'appsettings.agent.json', {}),
      SNOW_CONNECTOR__TicketConnector__DataDirectory: path.join(dataDir, 'data'),
      SNOW_CONNECTOR__TicketConnector__Encryption__CodecServer__Port: String(codecPort),
      TEMPORAL_ADDRESS: `127.0.0.1:${grpcPort}`,
      TEMPORAL_UI_PORT: String(uiPort),
      SNOW_SIM_PORT: String(simPort),
      SNOW_SIM_PASSWORD: '',
    };

    const first = await startStack(env);
    assert.match(first.output(), new RegExp(`Temporal gRPC: +127\\.0\\.0\\.1:${grpcPort}`));
    assert.match(first.output(), new RegExp(`Temporal Web UI: +http://localhost:${uiPort}`));
    assert.match(first.output(), /Search attributes: registered TicketNumber/);
    assert.match(first.output(), /Self-check: +worker .* ran workflow self-check-/);
    assert.match(
      first.output(),
      /First order: +npx snow-ticket provision examples\/order\.json \(Demo_AppAccess on Simulator\)/,
    );
    const ui = await fetch(`http://127.0.0.1:${uiPort}/`);
    assert.equal(ui.status, 200);
    assert.match(
      first.output(),
      new RegExp(`ServiceNow: +simulator at http://127\\.0\\.0\\.1:${simPort} \\(connection Simulator\\)`),
    );
    const credentialsFile = path.join(dataDir, 'data', 'simulator-credentials.json');
    assert.equal(statSync(credentialsFile).mode & 0o077, 0, 'credentials readable by the owner only');
    const { password } = JSON.parse(readFileSync(credentialsFile, 'utf8')) as { password: string };
    assert.ok(!first.output().includes(password), 'the banner names the file, not the password');
    const asAdmin = { authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` };
    const created = await fetch(`http://127.0.0.1:${simPort}/api/now/table/incident`, {
      method: 'POST',
      headers: { ...asAdmin, 'content-type': 'application/json' },
      body: JSON.stringify({ short_description: 'kept across restarts' }),
    });
    assert.equal(created.status, 201);
    const incidentUrl = created.headers.get('location') ?? '';

    // Orders are encrypted with a key generated once (owner-only, never printed); the codec server is wired
    // to the Web UI and refuses callers without its token.
    const encryptionFile = path.join(dataDir, 'data', 'payload-encryption.json');
    assert.equal(statSync(encryptionFile).mode & 0o077, 0, 'the payload key is readable by the owner only');
    const local = JSON.parse(readFileSync(encryptionFile, 'utf8')) as {
      keyId: string;
      key: string;
      codecToken: string;
    };
    assert.match(
      first.output(),
      new RegExp(
        `Encryption: +orders and password resets sealed with key ${local.keyId} \\(EncryptOrders on\\)`,
      ),
    );
    assert.match(first.output(), new RegExp(`Codec server: +http://localhost:${codecPort} `));
    assert.match(first.output(), new RegExp(`sign in once at http://localhost:${codecPort}/login`));
    assert.ok(!first.output().includes(local.key), 'the banner never shows the payload key');
    assert.ok(!first.output().includes(local.codecToken), 'the banner names the file, not the codec token');
    const decode = (authorization?: string) =>
      fetch(`http://127.0.0.1:${codecPort}/decode`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
        body: JSON.stringify({ payloads: [] }),
      });
    assert.equal((await decode()).status, 401);
    assert.equal((await decode(`Bearer ${local.codecToken}`)).status, 200);
    const uiSettings = (await (await fetch(`http://127.0.0.1:${uiPort}/api/v1/settings`)).json()) as {
      Codec?: { Endpoint?: string };
    };
    assert.equal(
      uiSettings.Codec?.Endpoint,
      `http://localhost:${codecPort}`,
      'the Web UI knows the codec server',
    );

    const connection = await Connection.connect({ address: `127.0.0.1:${grpcPort}` });
    const client = new Client({ connection });
    // Parked on a queue nobody polls, so it is still open when the stack stops.
    await client.workflow.start(selfCheckWorkflow, { taskQueue: 'parked', workflowId: 'left-open' });
    await connection.close();

    assert.equal(await stopWithCtrlC(first), 0, first.output());
    assert.match(first.output(), /Stopped\./);
    assert.equal(await isListening('127.0.0.1', grpcPort), false, 'the Temporal server is gone');
    assert.equal(await isListening('127.0.0.1', uiPort), false, 'the Web UI is gone');
    assert.equal(await isListening('127.0.0.1', simPort), false, 'the simulator is gone');
    assert.equal(await isListening('127.0.0.1', codecPort), false, 'the codec server is gone');

    const second = await startStack(env);
    assert.match(second.output(), /Search attributes: already registered/);
    const kept = await fetch(incidentUrl, { headers: asAdmin });
    assert.equal(kept.status, 200, 'the simulator keeps its credentials and records across restarts');
    const again = await Connection.connect({ address: `127.0.0.1:${grpcPort}` });
    try {
      const description = await new Client({ connection: again }).workflow.getHandle('left-open').describe();
      assert.equal(description.status.name, 'RUNNING');
      await new Client({ connection: again }).workflow.getHandle('left-open').terminate('test done');
    } finally {
      await again.close();
    }
    assert.equal(await stopWithCtrlC(second), 0, second.output());
    assert.equal(await isListening('127.0.0.1', grpcPort), false);
  });

  test('refuses to start on a port that is taken, with a clear message', async () => {
    const blocker = createServer().listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const { port } = blocker.address() as { port: number };
    try {
      const dataDir = tempDir();
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/stack/start.ts'], {
        cwd: root,
        env: {
          ...process.env,
          SNOW_CONNECTOR_CONFIG: writeJson(dataDir, 'appsettings.agent.json', {}),
          SNOW_CONNECTOR__TicketConnector__DataDirectory: path.join(dataDir, 'data'),
          SNOW_CONNECTOR__TicketConnector__Encryption__CodecServer__Port: String(await freePort()),
          TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
          TEMPORAL_UI_PORT: String(await freePort()),
          SNOW_SIM_PORT: String(await freePort()),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      started.push(child);
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const [code] = (await once(child, 'exit')) as [number | null];
      assert.equal(code, 1);
      assert.match(stderr, new RegExp(`Port ${port} is already in use`));
    } finally {
      blocker.close();
    }
  });
});
