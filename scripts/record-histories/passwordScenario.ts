import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { openLedger } from '../../src/assignments/sqliteLedger';
import { startOrder } from '../../src/client/provisioning';
import { fetchRunHistories } from '../../src/client/histories';
import { PasswordResetFailedError, resetPassword } from '../../src/client/passwordReset';
import { passwordRouting } from '../../src/cli/orders/shared';
import { passwordTaskQueue } from '../../src/contract/names';
import type { provisioningWorkflow } from '../../src/workflows';
import { createConnectorWorker, workerDataConverter } from '../../src/platform/connectorWorker';
import { passwordKeyring, passwordsDataConverter } from '../../src/platform/encryption';
import { startSimulator, type SimulatorHandle } from '../../src/simulator/server';
import { CONNECTION, simulatorSettings, testOrder } from '../harness/simulatorSettings';
import { createTimeSkippingEnv, workflowBundle } from '../harness/temporalServers';
import { writeRunHistories } from './historyFiles';
import { PASSWORD_RESOURCE_TYPE, type PasswordScenario } from './scenarios';
import { assertNoPassword, withholdPasswords } from './withholdPasswords';

/**
 * How a password scenario is recorded: a time-skipping server, the simulator, and one worker on the password
 * task queue, whose settings hold a password key generated here, held in memory only and never written. The
 * scenario starts its workflow the way the connector's clients do; its history is opened with that key, the
 * dummy passwords withheld, and checked before it is written.
 */
export async function recordPasswordScenario(
  outDir: string,
  dataDir: string,
  scenario: PasswordScenario,
): Promise<string[]> {
  if (scenario.passwords.some((password) => password.length < 6)) {
    throw new Error(
      `${scenario.name}: dummy passwords need 6 characters or more, for the leak check to hold`,
    );
  }
  const sim = await startSimulator({ port: 0, randomSeed: 1 });
  const env = await createTimeSkippingEnv();
  const taskQueue = `record-${scenario.release}-${scenario.name}`;
  const queue = passwordTaskQueue(taskQueue);
  const settings = simulatorSettings(sim, dataDir, {
    Encryption: {
      PasswordKeys: { recording: randomBytes(32).toString('base64') },
      ActivePasswordKey: 'recording',
    },
    ResourceTypeMappings: {
      [PASSWORD_RESOURCE_TYPE]: {
        Connection: CONNECTION,
        CallerId: sim.credentials.login,
        TitleTemplate: '{{ChangeType}} {{ResourceType.Identifier}} for {{Owner.Identifier}}',
        DescriptionTemplate: 'Account {{Resource.Login}}',
        Password: { Attribute: 'InitialPassword', UserAttribute: 'Login' },
      },
    },
  });
  const encryption = settings.TicketConnector.Encryption;
  const ledger = openLedger(path.join(dataDir, `${taskQueue}.sqlite`));
  const namespace = env.namespace ?? 'default';
  const worker = await createConnectorWorker({
    connection: env.nativeConnection,
    namespace,
    taskQueue: queue,
    settings,
    assignments: ledger,
    workflowBundle: await workflowBundle(workerDataConverter(queue, settings).failureConverterPath),
  });
  const running = worker.run();
  try {
    const passwords = new Client({
      connection: env.connection,
      namespace,
      dataConverter: passwordsDataConverter(encryption),
    });
    // As snow-ticket provision routes orders: only the client and namespace of the session are used.
    const routing = passwordRouting(settings, {
      client: env.client,
      target: { address: 'time-skipping test server', namespace, taskQueue, connectionOptions: {} },
      close: async () => undefined,
    });
    const workflowId = await scenario.run({
      sim,
      createUser: (userName) => createUser(sim, userName),
      async resetPassword(input, requestId) {
        try {
          return { workflowId: (await resetPassword(passwords, input, { taskQueue, requestId })).workflowId };
        } catch (error) {
          if (!(error instanceof PasswordResetFailedError)) throw error;
          return { workflowId: error.workflowId, refusal: error.type ?? 'unknown' };
        }
      },
      async startOrder(order) {
        const started = await startOrder(env.client, testOrder(PASSWORD_RESOURCE_TYPE, order), {
          taskQueue,
          passwords: routing,
        });
        const handle = passwords.workflow.getHandle<typeof provisioningWorkflow>(started.workflowId);
        return { workflowId: started.workflowId, result: await handle.result() };
      },
    });
    const runs = await fetchRunHistories(env.client, workflowId);
    for (const run of runs) {
      await withholdPasswords(run.history, passwordKeyring(encryption), scenario.passwords, scenario.name);
    }
    return writeRunHistories(outDir, scenario.name, runs, (name, json) =>
      assertNoPassword(name, json, scenario.passwords),
    );
  } finally {
    worker.shutdown();
    await running;
    await env.teardown();
    await ledger.close();
    await sim.close();
  }
}

/** A ServiceNow user, created through the Table API as the simulator's admin. */
async function createUser(sim: SimulatorHandle, userName: string): Promise<void> {
  const { login, password } = sim.credentials;
  const response = await fetch(`${sim.tableApiUrl}/sys_user`, {
    method: 'POST',
    headers: {
      Authorization: `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}`,
      Accept: 'application/json',
      'Content-Type': 'application/json',
    },
    body: JSON.stringify({ user_name: userName, first_name: 'Recorded' }),
  });
  if (response.status !== 201) throw new Error(`creating the user ${userName}: HTTP ${response.status}`);
}
