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
import { isListening, PortInUseError, startDevServer, type DevServer } from './devServer';
import { startCodecServer, type CodecServerHandle } from '../codec/server';
import { codecServerKeyring, ordersDataConverter } from '../platform/encryption';
import type { SettingsFile } from '../config/schema';
import { formatDuration } from '../contract/durations';
import { provisioningSettings } from '../platform/adapters';
import { installMetrics, metricsUrl } from '../platform/prometheusMetrics';
import { ensureLocalEncryption, localEncryptionFile, withLocalKey } from './localEncryption';
import { localNotifyTarget, withLocalPush } from './localPush';
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

/** EncryptOrders on, with the settings' keys or the local one (see localEncryption.ts). */
function encryptedSettings(settings: SettingsFile, dataDir: string): SettingsFile {
  const withKey = withLocalKey(settings, ensureLocalEncryption(dataDir));
  const connector = withKey.TicketConnector;
  return {
    ...withKey,
    TicketConnector: { ...connector, Encryption: { ...connector.Encryption, EncryptOrders: true } },
  };
}

/**
 * The codec server for the Web UI, on the configured port, allowing the local UI's origin. Its token is the
 * configured one or the generated one kept in the data folder; only where to find it is ever printed.
 */
async function startLocalCodecServer(
  settings: SettingsFile,
  dataDir: string,
  uiPort: number,
): Promise<{ handle: CodecServerHandle; tokenSource: string }> {
  const encryption = settings.TicketConnector.Encryption;
  const server = encryption.CodecServer;
  if (await isListening('127.0.0.1', server.Port)) {
    throw new PortInUseError(server.Port, 'TicketConnector.Encryption.CodecServer.Port');
  }
  const handle = await startCodecServer({
    keyring: codecServerKeyring(encryption),
    token: server.Token ?? ensureLocalEncryption(dataDir).codecToken,
    allowedOrigins: [...new Set([...server.AllowedOrigins, `http://localhost:${uiPort}`])],
    namespaces: server.Namespaces,
    port: server.Port,
    host: server.Host,
  });
  const tokenSource =
    server.Token === undefined
      ? `"codecToken" in ${localEncryptionFile(dataDir)}`
      : 'TicketConnector.Encryption.CodecServer.Token';
  return { handle, tokenSource };
}

/** Which of the three closure layers run: push, the sweep, and the per-order safety poll (always). */
function closureLayers(settings: SettingsFile, pushUrl: string | undefined): string {
  const { Sweep } = settings.TicketConnector;
  return [
    pushUrl === undefined ? 'push off' : `push to ${pushUrl}`,
    Sweep.Enabled ? `sweep every ${formatDuration(Sweep.Interval)}` : 'sweep off',
    `safety poll at most every ${formatDuration(provisioningSettings(settings).polling.maxIntervalMs)}`,
  ].join(', ');
}

async function main(): Promise<void> {
  // The stack prints its own summary; worker internals (bundling, state changes) only when asked for.
  const logger = new DefaultLogger((process.env.LOG_LEVEL ?? 'WARN') as LogLevel);
  const config = await loadSettings();
  const metrics = installMetrics(config.settings.TicketConnector.Metrics, { logger });
  if (metrics === undefined) Runtime.install({ logger });
  const target = resolveTemporalTarget(config.settings);
  const { address } = target;
  const { host, port } = splitAddress(address);
  const dataDir = path.resolve(config.settings.TicketConnector.DataDirectory);
  mkdirSync(dataDir, { recursive: true });

  const uiPort = Number(process.env.TEMPORAL_UI_PORT ?? DEFAULT_UI_PORT);
  // Orders are encrypted, as in production; the Web UI reads them through the codec server. Closures are pushed.
  const encrypted = withLocalPush(
    encryptedSettings(config.settings, dataDir),
    ensureLocalEncryption(dataDir),
  );
  const codec = await startLocalCodecServer(encrypted, dataDir, uiPort);

  // A non-loopback address means a real cluster: run the worker against it and start no server.
  let devServer: DevServer | undefined;
  try {
    if (isLoopbackHost(host)) {
      devServer = await startDevServer({
        cli: requireBinary('cli'),
        dataDir,
        ip: host === 'localhost' ? '127.0.0.1' : host,
        port,
        uiPort,
        namespace: target.namespace,
        codecEndpoint: codec.handle.url,
      });
    }
  } catch (error) {
    await codec.handle.close();
    throw error;
  }

  // Without a configured instance, the bundled simulator stands in for ServiceNow.
  let simulator: LocalSimulator | undefined;
  const stopServer = async () => {
    await simulator?.handle.close();
    await devServer?.stop();
    await codec.handle.close();
  };
  try {
    const noConnection = Object.keys(config.settings.Connections).length === 0;
    simulator = noConnection
      ? await startLocalSimulator(encrypted, dataDir, process.env, localNotifyTarget(encrypted))
      : undefined;
    const settings = simulator?.settings ?? encrypted;
    const connection = await Connection.connect(target.connectionOptions);
    const added = await registerSearchAttributes(connection, target.namespace);
    // The simulator's settings are its own; credential stores only stand behind the configured connections.
    const worker = await startWorker(
      settings,
      target,
      process.env,
      simulator ? undefined : config.live,
      metrics,
    );
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

    // The worker seals what it returns: the self-check reads it with the same codec.
    const client = new Client({
      connection,
      namespace: target.namespace,
      dataConverter: ordersDataConverter(settings.TicketConnector.Encryption),
    });
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
      `  Encryption:      orders and password resets sealed with key ${settings.TicketConnector.Encryption.ActiveKey ?? '?'} (EncryptOrders on)`,
      `  Codec server:    ${codec.handle.url} (the Web UI's --ui-codec-endpoint)`,
      `                   read decrypted payloads in the Web UI: sign in once at ${codec.handle.url}/login`,
      `                   with the token ${codec.tokenSource}, then in the UI's Codec Server`,
      `                   settings use ${codec.handle.url} with "Include cross-origin credentials" on`,
      `  Closures:        ${closureLayers(settings, worker.pushUrl)}`,
      ...[metricsUrl(settings.TicketConnector.Metrics)]
        .filter((url) => url !== undefined)
        .map((url) => `  Metrics:         ${url}`),
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
