import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import path from 'node:path';
import { openLedger } from '../../src/assignments/sqliteLedger';
import { parseSettings } from '../../src/config/load';
import { createConnectorWorker } from '../../src/platform/connectorWorker';
import { customSearchAttributes } from '../../src/contract/searchAttributes';
import { selfCheckWorkflow } from '../../src/workflows';
import { tempDir } from '../helpers/files';
import { createDevServerEnv, createTimeSkippingEnv, workflowBundle } from '../helpers/temporal';
import { version } from '../../src/version';

const settings = parseSettings(
  {
    Connections: {
      Primary: { Server: 'https://example.service-now.com/api/now/table', Login: 'svc', Password: 'pw' },
    },
  },
  'test settings',
);

const ledgerDir = tempDir();

async function runSelfCheck(env: TestWorkflowEnvironment, taskQueue: string) {
  const assignments = openLedger(path.join(ledgerDir, `${taskQueue}.sqlite`));
  const worker = await createConnectorWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    settings,
    assignments,
    workflowBundle: await workflowBundle(),
  });
  try {
    return await worker.runUntil(
      env.client.workflow.execute(selfCheckWorkflow, { taskQueue, workflowId: `self-check-${taskQueue}` }),
    );
  } finally {
    await assignments.close();
  }
}

for (const [name, create] of [
  ['time-skipping server', createTimeSkippingEnv],
  ['dev server', createDevServerEnv],
] as const) {
  describe(`self-check workflow on the ${name}`, () => {
    let env: TestWorkflowEnvironment;
    before(async () => {
      env = await create();
    });
    after(async () => {
      await env?.teardown();
    });

    test('runs the workflow and its activity through a real worker', async () => {
      const result = await runSelfCheck(env, `self-check-${name.replace(/\W+/g, '-')}`);
      assert.equal(result.taskQueue, `self-check-${name.replace(/\W+/g, '-')}`);
      assert.equal(result.worker.version, version);
      assert.equal(result.worker.deploymentName, 'snow-ticket', 'the worker says which deployment ran it');
      assert.match(result.worker.buildId ?? '', new RegExp(`^${version.replace(/\./g, '\\.')}`));
      assert.deepEqual(result.worker.connections, ['Primary']);
      assert.equal(result.worker.activityTaskQueue, result.taskQueue);
      // Only identifiers cross into the history: credentials stay in the worker.
      assert.doesNotMatch(JSON.stringify(result), /pw|svc/);
    });

    test('accepts the connector search attributes on a workflow', async () => {
      const handle = await env.client.workflow.start(selfCheckWorkflow, {
        taskQueue: 'no-worker-polls-this-queue',
        workflowId: `search-attributes-${name.replace(/\W+/g, '-')}`,
        typedSearchAttributes: customSearchAttributes.map((key) => ({ key, value: `${key.name}-value` })),
      });
      const description = await handle.describe();
      for (const key of customSearchAttributes) {
        assert.equal(description.typedSearchAttributes.get(key), `${key.name}-value`);
      }
      await handle.terminate('test done');
    });
  });
}
