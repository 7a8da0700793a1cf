import type { Command } from 'commander';
import { temporalWhere } from '../client/session';
import { startPushReceiver } from '../push/receiver';
import { wholeNumber } from '../simulator/optionParsers';
import { CliError } from './errors';
import { loadCliConfig } from './loadCliConfig';
import { openTemporal } from './temporalClient';

/**
 * `snow-ticket push-receiver`: the receiver of ServiceNow's signed ticket-change notices alone, with the settings
 * of TicketConnector.Push, signaling orders on the settings' Temporal target with the workers' payload converter
 * (see src/push/receiver.ts). The worker runs the same receiver when Push.Enabled. Runs until SIGINT or SIGTERM.
 */
export function registerPushCommand(program: Command): void {
  program
    .command('push-receiver')
    .description(
      "receive ServiceNow's signed ticket-change notices and tell the orders to check their ticket now",
    )
    .option(
      '--port <port>',
      'listen on this port (default: TicketConnector.Push.Port)',
      wholeNumber(0, 65_535),
    )
    .option('--host <host>', 'listen on this address (default: TicketConnector.Push.Host)')
    .action(async (options: { port?: number; host?: string }, command: Command) => {
      const { settings } = await loadCliConfig(command);
      const push = settings.TicketConnector.Push;
      if (push.Secret === undefined) {
        throw new CliError(
          'The push receiver needs the shared secret the business rule signs with: set TicketConnector.Push.Secret ' +
            '(a secret: from a credential store or SNOW_CONNECTOR__TicketConnector__Push__Secret)',
          2,
        );
      }
      // Lazy: a receiver outlives Temporal restarts; a notice that finds Temporal down is answered 503.
      const session = await openTemporal(settings, { lazy: true });
      try {
        const receiver = await startPushReceiver({
          settings: { ...push, Port: options.port ?? push.Port, Host: options.host ?? push.Host },
          client: session.client,
          namespace: session.target.namespace,
        });
        console.log(
          `Push receiver listening on ${receiver.url} (signaling orders on ${temporalWhere(session.target)})`,
        );
        await new Promise<void>((resolve) => {
          const stop = () => resolve();
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        await receiver.close();
      } finally {
        await session.close();
      }
    });
}
