import { existsSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { openLedgerForSettings, resolveLedgerPath } from '../platform/assignmentStore';
import { LedgerError } from '../assignments/ledgerError';
import { MAX_LIST_LIMIT, type SqliteLedger } from '../assignments/sqliteLedger';
import type { AssignmentTicket, TransitionDetail } from '../assignments/store';
import { CONNECTOR_STATES, type ConnectorState } from '../contract/states';
import {
  connectionId,
  formatTable,
  nonEmpty,
  printJson,
  usageErrorsExit2,
  wholeNumber,
  printListing,
} from './cliOutput';
import { CliError } from './errors';
import { loadCliConfig } from './loadCliConfig';

/** `snow-ticket assignments`: the assignment states the worker recorded in the embedded SQLite ledger. */

interface AssignmentsOptions {
  state?: ConnectorState;
  assignment?: string;
  connection?: string;
  limit: number;
  history?: string;
  json?: boolean;
}

function ticketText(ticket: AssignmentTicket | undefined): string {
  if (ticket === undefined) return '';
  return `${ticket.number}${ticket.state === undefined ? '' : ` (${ticket.state})`}`;
}

function detailText(detail: TransitionDetail | undefined): string {
  if (detail === undefined) return '';
  return [
    detail.closeCode === undefined ? undefined : `code: ${detail.closeCode}`,
    detail.closeNotes === undefined ? undefined : `notes: ${detail.closeNotes}`,
    detail.closedBy === undefined ? undefined : `closed by ${detail.closedBy}`,
    detail.reason,
  ]
    .filter((part): part is string => part !== undefined && part !== '')
    .join('; ')
    .replace(/\s+/g, ' ');
}

async function showList(ledger: SqliteLedger, options: AssignmentsOptions): Promise<void> {
  const views = await ledger.list({
    state: options.state,
    assignmentId: options.assignment,
    connection: options.connection,
    limit: options.limit,
  });
  printListing(views, {
    json: options.json,
    empty: 'No assignments match.',
    headers: ['ASSIGNMENT', 'STATE', 'CHANGE', 'RESOURCE TYPE', 'CONNECTION', 'TICKET', 'UPDATED', 'ORDER'],
    cells: (view) => [
      view.assignmentId,
      view.state,
      view.changeType,
      view.resourceType,
      view.connection,
      ticketText(view.ticket),
      view.updatedAt,
      view.orderId,
    ],
  });
}

async function showHistory(ledger: SqliteLedger, orderId: string, json: boolean | undefined): Promise<void> {
  const transitions = await ledger.history(orderId);
  if (json) {
    printJson(transitions);
    return;
  }
  if (transitions.length === 0) {
    console.log(`No transitions recorded for the order ${orderId}.`);
    return;
  }
  const [first] = transitions;
  if (first !== undefined) {
    console.log(
      `Order ${orderId}: ${first.changeType} ${first.resourceType}, assignment ${first.assignmentId} on connection ${first.connection}`,
    );
  }
  console.log(
    formatTable(
      ['AT', 'STATE', 'TICKET', 'DETAIL'],
      transitions.map((transition) => [
        transition.at,
        transition.state,
        transition.ticket === undefined ? '' : `${transition.ticket.table} ${ticketText(transition.ticket)}`,
        detailText(transition.detail),
      ]),
    ),
  );
}

export function registerAssignmentCommands(program: Command): void {
  usageErrorsExit2(
    program
      .command('assignments')
      .summary('list the assignment states recorded in the ledger')
      .description(
        "list the assignment states recorded in the ledger (Assignments.LedgerFile), or one order's transitions with --history",
      )
      .addOption(
        new Option('--state <state>', 'only assignments in this provisioning state').choices(
          CONNECTOR_STATES,
        ),
      )
      .option(
        '--assignment <id>',
        'only this Identity Manager assignment id (AssignedResourceTypeId)',
        nonEmpty,
      )
      .addOption(new Option('--connection <id>', 'only this ServiceNow connection').argParser(connectionId))
      .option(
        '--limit <n>',
        'at most this many rows, most recently updated first',
        wholeNumber(1, MAX_LIST_LIMIT),
        100,
      )
      .option(
        '--history <orderId>',
        'every transition of one order (its workflow id), oldest first',
        nonEmpty,
      )
      .option('--json', 'print JSON')
      .addHelpText(
        'after',
        `
The ledger is the embedded assignment store (TicketConnector.Assignments.Store "Ledger", the default), a
SQLite file the worker writes and this command only reads. With Store "Http" the states are sent to
Identity Manager, which keeps them; ask it instead.

Examples:
  $ snow-ticket assignments --state Transmitted
  $ snow-ticket assignments --assignment 4711 --json
  $ snow-ticket assignments --history Main:4711:added:3f2a9c01b7de`,
      )
      .action(async (options: AssignmentsOptions, command: Command) => {
        const { settings } = await loadCliConfig(command);
        const file = resolveLedgerPath(settings);
        if (settings.TicketConnector.Assignments.Store === 'Http') {
          console.error(
            'Assignments.Store is "Http": assignment states are kept by Identity Manager, not by this connector; ' +
              `ask Identity Manager.${existsSync(file) ? ` The ledger ${file} holds only what was recorded while the store was "Ledger":` : ''}`,
          );
          if (!existsSync(file)) return;
        }
        let ledger: SqliteLedger;
        try {
          ledger = openLedgerForSettings(settings, { mustExist: true });
        } catch (error) {
          if (error instanceof LedgerError && !existsSync(file)) {
            throw new CliError(
              `No assignment ledger at ${file}: no order has been recorded yet, or the settings ` +
                '(DataDirectory, Assignments.LedgerFile) are not those of the worker',
            );
          }
          throw error instanceof LedgerError ? new CliError(error.message) : error;
        }
        try {
          if (options.history !== undefined) await showHistory(ledger, options.history, options.json);
          else await showList(ledger, options);
        } catch (error) {
          if (error instanceof LedgerError)
            throw new CliError(error.message, error.kind === 'invalid-input' ? 2 : 1);
          throw error;
        } finally {
          await ledger.close();
        }
      }),
  );
}
