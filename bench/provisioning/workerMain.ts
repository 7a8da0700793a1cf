/**
 * A benchmark worker in its own process, so that its RSS is its own:
 * - `connector`: the connector's worker (src/worker.ts) with the settings file in SNOW_CONNECTOR_CONFIG;
 * - `bare <address> <taskQueue>`: the one-activity workflow of ./bare, with the SDK's default worker options.
 * Prints "Worker polling" once it polls; SIGTERM stops it (the SDK's runtime shuts its workers down).
 */
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { loadSettings } from '../../src/config/load';
import { resolveTemporalTarget } from '../../src/config/temporalConnection';
import { startWorker } from '../../src/worker';
import { createBareActivities } from './bare/activities';

async function connectorWorker(): Promise<void> {
  const config = await loadSettings();
  // Until TicketConnector.Worker.MaxCachedWorkflows is wired into createConnectorWorker, give it to every
  // Worker.create of this process; once it is wired, the connector's own value wins (it comes later).
  const create = Worker.create.bind(Worker);
  const maxCachedWorkflows = config.settings.TicketConnector.Worker.MaxCachedWorkflows;
  Worker.create = async (options: WorkerOptions) => {
    const worker = await create({ maxCachedWorkflows, ...options });
    console.log(`Worker on ${options.taskQueue}: maxCachedWorkflows ${worker.options.maxCachedWorkflows}`);
    return worker;
  };
  const running = await startWorker(config.settings, resolveTemporalTarget(config.settings), process.env);
  console.log(`Worker polling (connector, maxCachedWorkflows ${maxCachedWorkflows})`);
  await running.done;
}

async function bareWorker(address: string, taskQueue: string): Promise<void> {
  const connection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection,
    taskQueue,
    workflowsPath: require.resolve('./bare/workflow'),
    activities: createBareActivities(),
  });
  console.log('Worker polling (bare)');
  await worker.run();
  await connection.close();
}

const [mode, address, taskQueue] = process.argv.slice(2);
const running =
  mode === 'connector'
    ? connectorWorker()
    : mode === 'bare' && address !== undefined && taskQueue !== undefined
      ? bareWorker(address, taskQueue)
      : Promise.reject(new Error('usage: workerMain.ts connector | bare <address> <taskQueue>'));
running.catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
