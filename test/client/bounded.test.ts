import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bounded } from '../../src/client/bounded';
import { createDevServerEnv } from '../helpers/temporal';

describe('bounded calls (dev server)', () => {
  let env: TestWorkflowEnvironment;

  before(async () => {
    env = await createDevServerEnv({ registerSearchAttributes: false });
  });

  after(async () => {
    await env?.teardown();
  });

  test("many calls under one long-lived signal leave no listener on it (the SDK's per-request listeners go with each call)", async () => {
    const run = new AbortController();
    const answers: string[] = [];
    for (let call = 0; call < 25; call += 1) {
      const info = await bounded(env.client, { timeoutMs: 10_000, signal: run.signal }, () =>
        env.client.workflowService.getSystemInfo({}),
      );
      answers.push(info.serverVersion ?? '');
    }
    assert.equal(answers.length, 25);
    assert.ok(answers.every((version) => version !== ''));
    assert.equal(getEventListeners(run.signal, 'abort').length, 0);
  });

  test('a call under a signal that is aborted meanwhile is canceled, and the signal keeps no listener', async () => {
    const run = new AbortController();
    const handle = await env.client.workflow.start('noWorkerPollsThisQueue', {
      taskQueue: 'bounded-test-no-worker',
      workflowId: `bounded-${process.pid}`,
    });
    // The result never comes (no worker): only the abort can end the call before its deadline.
    const waiting = bounded(env.client, { timeoutMs: 120_000, signal: run.signal }, () => handle.result());
    const rejected = assert.rejects(waiting);
    await new Promise<void>((resolve) => setImmediate(resolve));
    run.abort();
    await rejected;
    assert.equal(getEventListeners(run.signal, 'abort').length, 0);
    await handle.terminate('test over');
  });
});
