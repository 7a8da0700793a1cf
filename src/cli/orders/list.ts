import { Option, type Command } from 'commander';
import { listOrders, ORDER_STATES } from '../../client/orderList';
import { executionLabel } from '../../client/orderStatus';
import { connectionId, nonEmpty, printListing, usageErrorsExit2, wholeNumber } from '../cliOutput';
import { loadCliConfig } from '../loadCliConfig';
import { withTemporal } from '../temporalClient';

/** `list`: provisioning orders by state, ticket, assignment or connection, through Temporal's visibility. */

interface ListOptions {
  state?: string;
  ticket?: string;
  assignment?: string;
  connection?: string;
  limit: number;
  json?: boolean;
}

export function registerList(program: Command): void {
  usageErrorsExit2(
    program
      .command('list')
      .summary('list provisioning orders by state, ticket or assignment')
      .description(
        "list provisioning orders through Temporal's visibility, by provisioning state, ticket or assignment",
      )
      .addOption(new Option('--state <state>', 'provisioning state').choices(ORDER_STATES))
      .option('--ticket <number>', 'ticket number, e.g. INC0010001', nonEmpty)
      .option('--assignment <id>', 'Identity Manager assignment id (AssignedResourceTypeId)', nonEmpty)
      .addOption(new Option('--connection <id>', 'ServiceNow connection').argParser(connectionId))
      .option('--limit <n>', 'at most this many orders', wholeNumber(1, 10_000), 100)
      .option('--json', 'print the orders as JSON')
      .addHelpText(
        'after',
        `
Filters use the search attributes the workflow sets (ProvisioningState, TicketNumber, AssignmentId,
ConnectionId). Visibility is eventually consistent: an order started or changed a second ago may not show yet.

Examples:
  $ snow-ticket list --state Transmitted
  $ snow-ticket list --ticket INC0010001
  $ snow-ticket list --assignment 4711 --json`,
      )
      .action(async (options: ListOptions, command: Command) => {
        const { settings } = await loadCliConfig(command);
        await withTemporal(settings, async ({ client }) => {
          const rows = await listOrders(client, options, options.limit);
          printListing(rows, {
            json: options.json,
            empty: 'No provisioning orders match.',
            headers: [
              'WORKFLOW ID',
              'EXECUTION',
              'STATE',
              'TICKET',
              'TICKET STATE',
              'ASSIGNMENT',
              'RESOURCE TYPE',
              'STARTED',
            ],
            cells: (row) => [
              row.workflowId,
              executionLabel(row.execution),
              row.provisioningState ?? '',
              row.ticketNumber ?? '',
              row.ticketState ?? '',
              row.assignmentId ?? '',
              row.resourceType ?? '',
              row.startTime,
            ],
          });
        });
      }),
  );
}
