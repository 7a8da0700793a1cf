/**
 * The worker's Prometheus endpoint over real HTTP: the SDK's metrics and the connector's, after an order ran on a
 * dev server against the simulator. In its own file: the SDK runtime is installed once per process, here with
 * the Prometheus exporter (test/helpers/temporal.ts installs another one).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, type Worker } from '@temporalio/worker';
import { openLedger, type SqliteLedger } from '../../src/assignments/sqliteLedger';
import { startOrder } from '../../src/client/provisioning';
import { statusQuery, ticketChangedSignal } from '../../src/contract/messages';
import type { provisioningWorkflow } from '../../src/workflows';
import { createConnectorWorker, workerDataConverter } from '../../src/platform/connectorWorker';
import type { ConnectorMetrics } from '../../src/platform/metrics';
import { installMetrics } from '../../src/platform/prometheusMetrics';
import { createDevServerEnv, workflowBundle } from '../../scripts/harness/temporalServers';
import { CONNECTION, simulatorSettings, testOrder } from '../../scripts/harness/simulatorSettings';
import { tempDir } from '../helpers/files';
import { freePort } from '../helpers/ports';
import { useSimulator } from '../helpers/simulator';
import { waitFor } from '../helpers/waitFor';

const TASK_QUEUE = 'metrics';

/** `name{labels} value` lines of a Prometheus text page, by name and labels. */
function samples(page: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const line of page.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (match !== null) found.set(match[1] as string, Number(match[2]));
  }
  return found;
}

/** The sum of the samples of `name` whose labels include every `label="value"` given. */
function total(page: Map<string, number>, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const [key, value] of page) {
    if (key !== name && !key.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([label, wanted]) => key.includes(`${label}="${wanted}"`))) sum += value;
  }
  return sum;
}

describe('Prometheus metrics of a worker', () => {
  const simulator = useSimulator();
  const dataDir = tempDir();
  let port = 0;
  let metrics: ConnectorMetrics | undefined;
  let env: TestWorkflowEnvironment;
  let ledger: SqliteLedger;
  let worker: Worker;
  let running: Promise<void>;

  before(async () => {
    port = await freePort();
    // Before any connection: the runtime is what serves the endpoint.
    metrics = installMetrics({ Port: port, Host: '127.0.0.1' }, { logger: new DefaultLogger('WARN') });
    env = await createDevServerEnv();
    const settings = simulatorSettings(simulator.sim, dataDir);
    ledger = openLedger(path.join(dataDir, 'metrics.sqlite'));
    worker = await createConnectorWorker({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue: TASK_QUEUE,
      settings,
      assignments: ledger,
      workflowBundle: await workflowBundle(workerDataConverter(TASK_QUEUE, settings).failureConverterPath),
      ...(metrics === undefined ? {} : { metrics }),
    });
    running = worker.run();
  });

  after(async () => {
    worker.shutdown();
    await running;
    await ledger.close();
    await env.teardown();
  });

  const scrape = async () => {
    const response = await fetch(`http://127.0.0.1:${port}/metrics`);
    assert.equal(response.status, 200);
    return samples(await response.text());
  };

  test('without a port nothing is installed', () => {
    assert.equal(installMetrics({ Host: '127.0.0.1' }), undefined);
  });

  test("an order's ServiceNow calls and recorded states show beside the SDK's own metrics", async () => {
    assert.ok(metrics !== undefined);
    const started = await startOrder(env.client, testOrder(), { taskQueue: TASK_QUEUE });
    const handle = env.client.workflow.getHandle<typeof provisioningWorkflow>(started.workflowId);
    const ticket = await waitFor(
      'the ticket to be opened',
      async () => (await handle.query(statusQuery)).ticket,
    );
    simulator.sim.instance.actOnTicket(ticket.number, { action: 'close', notes: 'done' });
    await handle.signal(ticketChangedSignal, { source: 'test' });
    assert.equal((await handle.result()).provisioningState, 'Executed');

    // The runtime exports what it has aggregated; give it until the order's last state shows.
    const page = await waitFor('the metrics of the order', async () => {
      const scraped = await scrape();
      return total(scraped, 'snow_orders_recorded_total', { state: 'Executed' }) >= 1 ? scraped : undefined;
    });
    assert.ok(total(page, 'snow_orders_recorded_total', { state: 'Transmitted' }) >= 1);
    // Opening reads the caller, creates the ticket and reads it back; the check reads it again.
    const created = total(page, 'snow_servicenow_calls_total', {
      connection: CONNECTION,
      table: 'incident',
      status: '201',
    });
    assert.equal(created, 1, 'one ticket created');
    assert.ok(
      total(page, 'snow_servicenow_calls_total', {
        connection: CONNECTION,
        table: 'incident',
        status: '200',
      }) >= 1,
    );
    // The SDK's own metrics, on the same endpoint.
    assert.ok(total(page, 'temporal_workflow_completed') >= 1, 'the SDK counted the completed workflow');
    assert.ok(total(page, 'temporal_activity_execution_latency_count') >= 2, 'and the activities it ran');

    // Waits and the connector's other counters go to the same meter.
    metrics.budgetWait(CONNECTION, 'rate-limited', 1500);
    metrics.push('signaled');
    metrics.sweep(CONNECTION, 12, 3);
    const later = await waitFor('the reported wait', async () => {
      const scraped = await scrape();
      return total(scraped, 'snow_budget_wait_seconds_count', { reason: 'rate-limited' }) >= 1
        ? scraped
        : undefined;
    });
    assert.equal(
      total(later, 'snow_budget_wait_seconds_sum', { connection: CONNECTION, reason: 'rate-limited' }),
      1.5,
    );
    assert.equal(total(later, 'snow_push_requests_total', { outcome: 'signaled' }), 1);
    assert.equal(total(later, 'snow_sweep_tickets_read_total', { connection: CONNECTION }), 12);
    assert.equal(total(later, 'snow_sweep_orders_signaled_total', { connection: CONNECTION }), 3);
  });
});
