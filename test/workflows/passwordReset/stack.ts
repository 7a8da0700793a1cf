import { after, before } from 'node:test';
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { parseSettings } from '../../../src/config/load';
import type { SettingsFile } from '../../../src/config/schema';
import { passwordTaskQueue } from '../../../src/contract/names';
import { passwordsDataConverter } from '../../../src/platform/encryption';
import { tempDir } from '../../helpers/files';
import {
  CONNECTION,
  provisioningWorker,
  RESOURCE_TYPES,
  simulatorConnection,
  type ProvisioningHarness,
} from '../../helpers/provisioning';
import { simulatorCalls, useSimulator, type SimulatorCalls } from '../../helpers/simulator';
import type { SimulatorHandle } from '../../../src/simulator/server';

/** A fixed test key (never a real one): 32 bytes in base64. */
export const PAYLOAD_KEY = Buffer.alloc(32, 7).toString('base64');

/** The connection whose account has no role: it may only edit its own profile. */
export const PLAIN_CONNECTION = 'SimPlain';
export const PLAIN_ACCOUNT = { login: 'pw.helpdesk', password: 'Helpdesk-pass-1' };

/** The resource type whose orders carry a password attribute. */
export const PASSWORD_RESOURCE_TYPE = 'App_Account';

export interface PasswordStack extends SimulatorCalls {
  readonly sim: SimulatorHandle;
  readonly env: TestWorkflowEnvironment;
  readonly settings: SettingsFile;
  /** The configured task queue; its password queue is `<taskQueue>-passwords`. */
  readonly taskQueue: string;
  /** A client with the passwords data converter (always encrypts). */
  readonly client: Client;
  /** The password queue's worker (its ledger holds the order path's assignment records). */
  readonly passwords: ProvisioningHarness;
  /** The configured queue's worker, which opens tickets. */
  readonly tickets: ProvisioningHarness;
}

/**
 * The simulator, a Temporal server (`createEnv`), and connector workers on a task queue and on its password
 * queue, with a payload key; settings with a second connection whose account may not set passwords, and a
 * mapping whose orders carry a password.
 */
export function usePasswordStack(
  createEnv: () => Promise<TestWorkflowEnvironment>,
  taskQueue: string,
): PasswordStack {
  const snow = useSimulator();
  const calls = simulatorCalls(() => snow.sim);
  const dataDir = tempDir();
  let env: TestWorkflowEnvironment | undefined;
  let settings: SettingsFile | undefined;
  let client: Client | undefined;
  const harnesses: { harness: ProvisioningHarness; running: Promise<void> }[] = [];

  before(async () => {
    const plain = await calls.call('/api/now/table/sys_user?sysparm_input_display_value=true', {
      body: { user_name: PLAIN_ACCOUNT.login, user_password: PLAIN_ACCOUNT.password },
    });
    if (plain.status !== 201) throw new Error(`creating the plain account: ${plain.status}`);
    settings = parseSettings(
      {
        Connections: {
          ...simulatorConnection(snow.sim),
          [PLAIN_CONNECTION]: {
            Server: snow.sim.tableApiUrl,
            Login: PLAIN_ACCOUNT.login,
            Password: PLAIN_ACCOUNT.password,
          },
        },
        TicketConnector: {
          DataDirectory: dataDir,
          Encryption: { Keys: { k1: PAYLOAD_KEY }, ActiveKey: 'k1' },
          ResourceTypeMappings: {
            [PASSWORD_RESOURCE_TYPE]: {
              Connection: CONNECTION,
              CallerId: snow.sim.credentials.login,
              TitleTemplate: '{{ChangeType}} {{ResourceType.Identifier}} for {{Owner.Identifier}}',
              DescriptionTemplate: 'Account {{Changes.Login}}: {{Changes.InitialPassword}}',
              Password: { Attribute: 'InitialPassword', UserAttribute: 'Login' },
            },
            [RESOURCE_TYPES.incident]: {
              Connection: CONNECTION,
              CallerId: snow.sim.credentials.login,
              TitleTemplate: '{{ChangeType}} {{ResourceType.Identifier}}',
              DescriptionTemplate: 'Please grant it.',
            },
          },
        },
      },
      'password test settings',
    );
    env = await createEnv();
    client = new Client({
      connection: env.connection,
      namespace: env.namespace ?? 'default',
      dataConverter: passwordsDataConverter(settings.TicketConnector.Encryption),
    });
    for (const queue of [taskQueue, passwordTaskQueue(taskQueue)]) {
      const harness = await provisioningWorker(env, settings, queue);
      harnesses.push({ harness, running: harness.worker.run() });
    }
  });

  after(async () => {
    for (const { harness, running } of harnesses) {
      harness.worker.shutdown();
      await running;
      await harness.ledger.close();
    }
    await env?.teardown();
  });

  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is used before its before() hook ran`);
    return value;
  };
  return {
    ...calls,
    get sim() {
      return snow.sim;
    },
    get env() {
      return ready(env, 'the Temporal server');
    },
    get settings() {
      return ready(settings, 'the settings');
    },
    taskQueue,
    get client() {
      return ready(client, 'the encrypting client');
    },
    get passwords() {
      return ready(harnesses[1], 'the password worker').harness;
    },
    get tickets() {
      return ready(harnesses[0], 'the ticket worker').harness;
    },
  };
}
