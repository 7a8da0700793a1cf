import type { Command } from 'commander';
import { executionLabel, orderStatus, type OrderStatusReport } from '../../client/orderStatus';
import { durationOption, formatFields, printJson, usageErrorsExit2 } from '../cliOutput';
import { loadCliConfig } from '../loadCliConfig';
import { withTemporal } from '../temporalClient';
import { outcomeOf } from './shared';

/** `status`: an order's progress or outcome, from the workflow's status query or its execution record. */

function printStatus(report: OrderStatusReport): void {
  const { status, result, searchAttributes: sa } = report;
  const ticket = status?.ticket ?? result?.ticket;
  const ticketState = result?.ticket?.stateLabel ?? status?.ticketState ?? sa.ticketState;
  const checks =
    status === undefined
      ? result === undefined
        ? undefined
        : `${result.checks}`
      : `${status.checks}${status.failedChecks > 0 ? ` (${status.failedChecks} failed)` : ''}`;
  const change = status ?? result;
  console.log(
    formatFields([
      ['Order', report.workflowId],
      [
        'Workflow',
        `${executionLabel(report.execution)} (started ${report.startTime}` +
          `${report.closeTime === undefined ? '' : `, closed ${report.closeTime}`})`,
      ],
      [
        'Order for',
        change === undefined
          ? sa.assignmentId === undefined
            ? undefined
            : `assignment ${sa.assignmentId}, ${sa.resourceType ?? '?'} on connection ${sa.connection ?? '?'}`
          : `${change.changeType} ${change.resourceType}, assignment ${change.assignmentId} on connection ${change.connection}`,
      ],
      ['Phase', status?.phase],
      ['Provisioning state', result?.provisioningState ?? status?.provisioningState ?? sa.provisioningState],
      [
        'Ticket',
        ticket === undefined
          ? sa.ticketNumber
          : `${ticket.number} (${ticket.table})${ticketState === undefined ? '' : `, ${ticketState}`}`,
      ],
      ['Ticket opened', status?.openedAt],
      ['Checks made', checks],
      ['Last check', status?.lastCheckAt],
      ['Next check', status?.nextCheckAt],
      ['Reminders sent', status === undefined ? undefined : String(status.remindersSent)],
      [
        'Run',
        status === undefined ? undefined : `${status.run} (continue-as-new keeps each run's history short)`,
      ],
      [
        'Cancel requested',
        status?.cancelRequested === undefined
          ? undefined
          : `${status.cancelRequested.reason}${status.cancelRequested.requestedBy === undefined ? '' : ` (by ${status.cancelRequested.requestedBy})`}`,
      ],
      ['Outcome', result === undefined ? report.failure : outcomeOf(result)],
      ['Close code', result?.closeCode],
      ['Close notes', result?.closeNotes],
      [
        'Closed by',
        result?.closedBy === undefined
          ? undefined
          : `${result.closedBy}${result.closedAt === undefined ? '' : ` at ${result.closedAt}`}`,
      ],
      ['Reason', result?.reason],
    ]),
  );
  if (status === undefined && report.queryError !== undefined) {
    console.log(
      `(no worker answered the status query: ${report.queryError}; shown from the execution's record)`,
    );
  }
}

export function registerStatus(program: Command): void {
  usageErrorsExit2(
    program
      .command('status <workflowId>')
      .summary("show an order's progress or outcome")
      .description(
        "show a provisioning order's progress or outcome: phase, ticket, checks, reminders, result",
      )
      .addOption(
        durationOption(
          '--timeout <duration>',
          'how long to wait for the worker to answer the status query',
          10_000,
        ),
      )
      .option('--json', 'print the status as JSON')
      .addHelpText(
        'after',
        `
The status comes from the workflow itself (a query, answered by a worker, also for closed orders); when no
worker answers, a closed order's result and the search attributes are shown instead.

Examples:
  $ snow-ticket status Main:4711:added:3f2a9c01b7de
  $ snow-ticket status Main:4711:added:3f2a9c01b7de --json`,
      )
      .action(async (workflowId: string, options: { timeout: number; json?: boolean }, command: Command) => {
        const { settings } = await loadCliConfig(command);
        await withTemporal(settings, async ({ client }) => {
          const report = await orderStatus(client, workflowId, options.timeout);
          if (options.json) printJson(report);
          else printStatus(report);
        });
      }),
  );
}
