import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TemporalFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { openLedger } from '../../../src/assignments/sqliteLedger';
import { parseSettings } from '../../../src/config/load';
import { createConnectorWorker } from '../../../src/platform/connectorWorker';
import { InvariantError, invariant } from '../../../src/workflows/provisioning/invariant';
import { tempDir } from '../../helpers/files';
import { createDevServerEnv } from '../../helpers/temporal';
import { waitFor } from '../../helpers/waitFor';

describe('a broken invariant is a bug, not a verdict on the order', () => {
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await createDevServerEnv();
  });
  after(async () => {
    await env?.teardown();
  });

  test('invariant() throws a plain error, not a Temporal failure', () => {
    assert.equal(invariant('kept', 'never broken'), 'kept');
    assert.throws(
      () => invariant(undefined, 'the ticket is known'),
      (error: unknown) =>
        error instanceof InvariantError &&
        !(error instanceof TemporalFailure) &&
        /Internal invariant broken: the ticket is known/.test(error.message),
    );
  });

  test('the workflow task fails and is retried; the workflow stays open for a fixed worker', async () => {
    const taskQueue = 'broken-invariant';
    // The connector's own worker options, so that a setting turning plain errors into workflow failures
    // (workflowFailureErrorTypes) would make this test fail.
    const dataDir = tempDir();
    const ledger = openLedger(path.join(dataDir, 'ledger.sqlite'));
    const worker = await createConnectorWorker({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      settings: parseSettings({ TicketConnector: { DataDirectory: dataDir } }, 'test settings'),
      assignments: ledger,
      workflowBundle: await bundleWorkflowCode({
        workflowsPath: require.resolve('./fixtures/invariantWorkflows'),
        logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
      }),
    });
    const handle = await env.client.workflow.start('brokenInvariantWorkflow', {
      taskQueue,
      workflowId: `broken-invariant-${process.pid}`,
    });
    await worker.runUntil(async () => {
      const failedTask = await waitFor('a failed workflow task', async () => {
        const { events } = await handle.fetchHistory();
        return events?.find((event) => event.workflowTaskFailedEventAttributes != null);
      });
      assert.match(
        failedTask.workflowTaskFailedEventAttributes?.failure?.message ?? '',
        /Internal invariant broken: a test breaks it on purpose/,
      );
      assert.equal((await handle.describe()).status.name, 'RUNNING');
    });
    await handle.terminate('test finished');
    await ledger.close();
  });
});
