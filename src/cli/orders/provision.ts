import { Option, type Command } from 'commander';
import { messageOf } from '../../client/session';
import type { StartedOrder } from '../../client/provisioning';
import { parseOrderText } from '../../provisioning/orderFiles';
import { connectionId, durationOption, plural, printJson, usageErrorsExit2 } from '../cliOutput';
import { CliError } from '../errors';
import { loadCliConfig } from '../loadCliConfig';
import { withTemporal } from '../temporalClient';
import {
  boundedStart,
  invalidOrders,
  orderSummary,
  readSource,
  startedJson,
  startedLines,
  warnUnknownConnections,
  type StartedJson,
} from './shared';

/** `provision`: starts the orders of a file or standard input, all validated before any starts. */

export function registerProvision(program: Command): void {
  usageErrorsExit2(
    program
      .command('provision <file>')
      .summary('start provisioning orders from a file or standard input')
      .description(
        'start provisioning orders from a file ("-" reads standard input): a workflow input {connection, order}, ' +
          'a bare Identity Manager order, or a {"ProvisioningOrdersList": [...]} file; every order is validated before any starts',
      )
      .addOption(
        new Option(
          '--connection <id>',
          'ServiceNow connection of bare orders and ProvisioningOrdersList files (a key of Connections)',
        ).argParser(connectionId),
      )
      .option('--by <who>', 'who asks, kept when a Deleted order revokes pending grants', 'Identity Manager')
      .addOption(durationOption('--timeout <duration>', 'give up on one start after this long', 30_000))
      .option('--json', 'print the started orders as JSON')
      .addHelpText(
        'after',
        `
Starting is idempotent: the same order always gets the same workflow id, so running the command again
attaches to the orders already started ("attached") instead of opening a second ticket.

Exit codes: 0 all started or attached; 2 invalid input (every problem is listed, nothing is started);
1 a start failed (the orders before it were started: run the same command again).

Examples:
  $ snow-ticket provision order.json                          # {"connection": "Main", "order": {...}}
  $ snow-ticket provision grant.json --connection Main        # a bare Identity Manager order
  $ snow-ticket provision orders.json --connection Main --json   # {"ProvisioningOrdersList": [...]}
  $ cat order.json | snow-ticket provision - --connection Main`,
      )
      .action(
        async (
          source: string,
          options: { connection?: string; by: string; timeout: number; json?: boolean },
          command: Command,
        ) => {
          const { label, text } = await readSource(source);
          const parsed = parseOrderText(text, { connection: options.connection });
          if (!parsed.ok) throw invalidOrders(label, parsed.problems);
          if (parsed.inputs.length === 0) {
            if (options.json) printJson([]);
            else console.log(`No orders in ${label}: nothing to start.`);
            return;
          }
          const { settings } = await loadCliConfig(command);
          warnUnknownConnections(
            settings,
            parsed.inputs.map((input) => input.connection),
          );
          await withTemporal(settings, async (session) => {
            const start = boundedStart(session, {
              timeoutMs: options.timeout,
              requestedBy: options.by,
              settings,
            });
            const done: StartedJson[] = [];
            for (const [index, input] of parsed.inputs.entries()) {
              let started: StartedOrder;
              try {
                started = await start(input);
              } catch (error) {
                if (options.json) printJson(done);
                throw new CliError(
                  `Order ${index + 1} of ${parsed.inputs.length} (${orderSummary(input)}) could not be started: ` +
                    `${messageOf(error)}\n${plural(index, 'order')} before it ${index === 1 ? 'was' : 'were'} started or attached; ` +
                    'starting is idempotent: run the same command again.',
                );
              }
              done.push(startedJson(input, started));
              if (!options.json) for (const line of startedLines(input, started)) console.log(line);
            }
            if (options.json) printJson(done);
          });
        },
      ),
  );
}
