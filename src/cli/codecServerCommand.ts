import type { Command } from 'commander';
import { startCodecServer } from '../codec/server';
import { codecServerKeyring } from '../platform/encryption';
import { wholeNumber } from '../simulator/optionParsers';
import { CliError } from './errors';
import { loadCliConfig } from './loadCliConfig';

/**
 * `snow-ticket codec-server`: the payload codec over HTTP for the Temporal Web UI and CLI, with the keys and
 * token of TicketConnector.Encryption (see src/codec/server.ts). Runs until SIGINT or SIGTERM.
 */
export function registerCodecServerCommand(program: Command): void {
  program
    .command('codec-server')
    .description(
      'serve /encode and /decode so that authorised operators read decrypted payloads in the Web UI',
    )
    .option(
      '--port <port>',
      'listen on this port (default: TicketConnector.Encryption.CodecServer.Port)',
      wholeNumber(0, 65_535),
    )
    .option('--host <host>', 'listen on this address (default: TicketConnector.Encryption.CodecServer.Host)')
    .action(async (options: { port?: number; host?: string }, command: Command) => {
      const { settings } = await loadCliConfig(command);
      const encryption = settings.TicketConnector.Encryption;
      const server = encryption.CodecServer;
      if (server.Token === undefined) {
        throw new CliError(
          'The codec server needs a token: set TicketConnector.Encryption.CodecServer.Token (a secret: from a ' +
            'credential store or SNOW_CONNECTOR__TicketConnector__Encryption__CodecServer__Token)',
          2,
        );
      }
      const keyring = codecServerKeyring(encryption);
      if (keyring.ids.length === 0) {
        throw new CliError(
          'The codec server has no payload keys to open: set TicketConnector.Encryption.Keys',
          2,
        );
      }
      const handle = await startCodecServer({
        keyring,
        token: server.Token,
        allowedOrigins: server.AllowedOrigins,
        namespaces: server.Namespaces,
        port: options.port ?? server.Port,
        host: options.host ?? server.Host,
      });
      console.log(
        [
          `Codec server listening on ${handle.url} (keys ${keyring.ids.join(', ')}; ` +
            `${keyring.activeId === undefined ? 'decode only' : `encodes with ${keyring.activeId}`})`,
          `  Web UI origins allowed: ${server.AllowedOrigins.length === 0 ? 'none (TicketConnector.Encryption.CodecServer.AllowedOrigins)' : server.AllowedOrigins.join(', ')}`,
          `  Browser sign-in: ${handle.url}/login`,
        ].join('\n'),
      );
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await handle.close();
    });
}
