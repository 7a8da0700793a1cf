/**
 * `npm start`: the whole local stack on embedded defaults. A Temporal dev server persisted to SQLite with
 * the Web UI, the connector's search attributes, and the worker; Ctrl-C stops all of it.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import { loadSettings, ConfigError } from '../config/load';
import { isLoopbackHost } from '../http/loopback';
import { resolveTemporalTarget } from '../config/temporalConnection';
import { requireBinary, TemporalBinaryMissingError } from '../platform/temporalBinaries';
import { registerSearchAttributes } from '../platform/registerSearchAttributes';
import { startWorker } from '../worker';
import { runSelfCheck } from '../client/selfCheck';
import { PortInUseError, startDevServer, type DevServer } from './devServer';
import { StateFileError } from '../simulator/stateFile';
import {
  DEMO_RESOURCE_TYPE,
  SIMULATOR_CONNECTION_ID,
  startLocalSimulator,
  type LocalSimulator,
} from './localSimulator';

const DEFAULT_UI_PORT = 8233;

function splitAddress(address: string): { host: string; port: number } {
  const match = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(address);
  if (!match) throw new Error(`TEMPORAL_ADDRESS "${address}" is not host:port`);
  return { host: (match[1] as string).replace(/^\[|\]$/g, ''), port: Number(match[2]) };
}

async function main(): Promise<void> {
  // The stack prints its own summary; worker internals (bundling, state changes) only when asked for.
  Runtime.install({ logger: new DefaultLogger((process.env.LOG_LEVEL ?? 'WARN') as LogLevel) });
  const config = await loadSettings();
  const target = resolveTemporalTarget(config.settings);
  const { address } = target;
  const { host, port } = splitAddress(address);
  const dataDir = path.resolve(config.settings.TicketConnector.DataDirectory);
  mkdirSync(dataDir, { recursive: true });

  // A non-loopback address means a real cluster: run the worker against it and start no server.
  let devServer: DevServer | undefined;
  if (isLoopbackHost(host)) {
    devServer = await startDevServer({
      cli: requireBinary('cli'),
      dataDir,
      ip: host === 'localhost' ? '127.0.0.1' : host,
      port,
      uiPort: Number(process.env.TEMPORAL_UI_PORT ?? DEFAULT_UI_PORT),
      namespace: target.namespace,
    });
  }

  // Without a configured instance, the bundled simulator stands in for ServiceNow.
  let simulator: LocalSimulator | undefined;
  const stopServer = async () => {
    await simulator?.handle.close();
    await devServer?.stop();
  };
  try {
    const noConnection = Object.keys(config.settings.Connections).length === 0;
    simulator = noConnection ? await startLocalSimulator(config.settings, dataDir) : undefined;
    const settings = simulator?.settings ?? config.settings;
    const connection = await Connection.connect(target.connectionOptions);
    const added = await registerSearchAttributes(connection, target.namespace);
    // The simulator's settings are its own; credential stores only stand behind the configured connections.
    const worker = await startWorker(settings, target, process.env, simulator ? undefined : config.live);
    let stopping = false;
    const stopAll = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      const servers = [devServer && 'the Temporal server', simulator && 'the simulator'].filter(Boolean);
      console.log(`\n${signal}: stopping the worker${servers.map((name) => ` and ${name}`).join('')}...`);
      void worker
        .shutdown()
        .finally(stopServer)
        .finally(() => console.log('Stopped.'));
    };
    process.once('SIGINT', stopAll);
    process.once('SIGTERM', stopAll);
    void devServer?.exited.then((code) => {
      if (!stopping) {
        console.error(
          `The Temporal dev server exited unexpectedly (code ${code}); see ${devServer?.logFile}`,
        );
        stopAll('SIGTERM');
      }
    });

    const client = new Client({ connection, namespace: target.namespace });
    const check = await runSelfCheck(client, { taskQueue: target.taskQueue, timeoutSeconds: 60 });
    await connection.close();

    const lines = [
      'ServiceNow ticket connector: local stack ready',
      `  Temporal gRPC:   ${address}${devServer ? '' : ' (external cluster)'}`,
      ...(devServer
        ? [
            `  Temporal Web UI: ${devServer.uiUrl}`,
            `  Temporal data:   ${devServer.dbFile} (server log: ${devServer.logFile})`,
          ]
        : []),
      `  Namespace:       ${target.namespace}, task queue ${target.taskQueue}`,
      `  Config:          ${config.file ?? 'embedded defaults (no appsettings.agent.json found)'}`,
      ...(simulator
        ? [
            `  ServiceNow:      simulator at ${simulator.handle.url} (connection ${SIMULATOR_CONNECTION_ID})`,
            `                   login ${simulator.handle.credentials.login}, password in ${simulator.passwordSource}`,
            `                   records kept in ${simulator.stateFile}`,
            `                   operate it: snow-ticket sim --help (SNOW_SIM_URL=${simulator.handle.url})`,
          ]
        : [`  ServiceNow:      ${Object.keys(config.settings.Connections).join(', ')}`]),
      `  Search attributes: ${added.length > 0 ? `registered ${added.join(', ')}` : 'already registered'}`,
      `  Self-check:      worker ${check.worker.version} (build ${check.worker.buildId ?? 'unknown'}) ran workflow ${check.workflowId}`,
      ...(simulator
        ? [
            `  First order:     npx snow-ticket provision examples/order.json (${DEMO_RESOURCE_TYPE} on ${SIMULATOR_CONNECTION_ID}),`,
            '                   then npx snow-ticket sim tickets / sim close <number> / status <workflow id>',
          ]
        : []),
      'Press Ctrl-C to stop.',
    ];
    console.log(lines.join('\n'));
    await worker.done;
    await stopServer();
  } catch (error) {
    await stopServer();
    throw error;
  }
}

main().catch((error: unknown) => {
  // Expected failures get their operator-ready message; anything else keeps its stack for a bug report.
  const expected =
    error instanceof ConfigError ||
    error instanceof TemporalBinaryMissingError ||
    error instanceof PortInUseError ||
    error instanceof StateFileError;
  console.error(expected ? error.message : error);
  process.exit(error instanceof ConfigError ? 2 : 1);
});
