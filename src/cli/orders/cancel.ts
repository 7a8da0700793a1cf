import { formatDuration } from '../../contract/durations';
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { cancelOrder, type CancelOutcome } from '../../client/orderCancel';
import { executionLabel } from '../../client/orderStatus';
import { messageOf } from '../../client/session';
import { cancelRequestProblems } from '../../contract/messages';
import { durationOption, nonEmpty, printJson, usageErrorsExit2 } from '../cliOutput';
import { CliError } from '../errors';
import { loadCliConfig } from '../loadCliConfig';
import { withTemporal } from '../temporalClient';
import { outcomeOf } from './shared';

/** `cancel`: revokes an order before it is fulfilled, through the workflow's cancel update. */

function defaultOperator(): string {
  try {
    return userInfo().username;
  } catch {
    return 'snow-ticket';
  }
}

/** The operator's message for every outcome but a cancellation carried out. */
function notCanceledMessage(
  workflowId: string,
  outcome: Exclude<CancelOutcome, { kind: 'done' }>,
  timeoutMs: number,
): string {
  switch (outcome.kind) {
    case 'finished': {
      const how =
        outcome.result === undefined ? executionLabel(outcome.execution) : outcomeOf(outcome.result);
      return `The order ${workflowId} has already finished (${how}): there is nothing to cancel.`;
    }
    case 'refused':
      return `The order ${workflowId} was not canceled: ${outcome.reason}`;
    case 'no-answer':
      return (
        `The cancellation of ${workflowId} was not carried out within ${formatDuration(timeoutMs)} ` +
        `(${messageOf(outcome.error)}); it may still be once a worker runs: check snow-ticket status ${workflowId}`
      );
  }
}

export function registerCancel(program: Command): void {
  usageErrorsExit2(
    program
      .command('cancel <workflowId>')
      .summary('revoke an order before it is fulfilled')
      .description(
        'revoke an order before it is fulfilled: its ticket is canceled with a note and the assignment recorded as Errored',
      )
      .requiredOption(
        '--reason <text>',
        'why the order is revoked (written on the ticket and kept in the history)',
        nonEmpty,
      )
      .option('--by <who>', 'who asks (default: your login)')
      .addOption(
        durationOption('--timeout <duration>', 'how long to wait for the worker to carry it out', 60_000),
      )
      .option('--json', 'print the result as JSON')
      .addHelpText(
        'after',
        `
If a fulfiller closed the ticket before the cancellation arrived, the ticket's outcome stands and is printed.

Exit codes: 0 done (revoked, or the ticket had been closed first); 2 bad input; 1 the order had already
finished, does not exist, or no worker carried the cancellation out in time.

Examples:
  $ snow-ticket cancel Main:4711:added:3f2a9c01b7de --reason "request withdrawn by the manager"
  $ snow-ticket cancel Main:4711:added:3f2a9c01b7de --reason "duplicate" --by jsmith --json`,
      )
      .action(
        async (
          workflowId: string,
          options: { reason: string; by?: string; timeout: number; json?: boolean },
          command: Command,
        ) => {
          const requestedBy = options.by ?? defaultOperator();
          // The workflow's own rules, checked before anything is sent.
          const problems = cancelRequestProblems({ reason: options.reason, requestedBy });
          if (problems.length > 0) {
            throw new CliError(
              problems.map((problem) => `--${problem.replace(/^requestedBy/, 'by')}`).join('; '),
              2,
            );
          }
          const { settings } = await loadCliConfig(command);
          await withTemporal(settings, async ({ client }) => {
            const outcome = await cancelOrder(
              client,
              workflowId,
              { reason: options.reason, requestedBy },
              options.timeout,
            );
            if (outcome.kind !== 'done') {
              throw new CliError(notCanceledMessage(workflowId, outcome, options.timeout));
            }
            const { result } = outcome;
            if (options.json) {
              printJson(result);
              return;
            }
            console.log(
              result.resolution === 'revoked'
                ? `Canceled ${workflowId}: ${outcomeOf(result)}; ${result.reason ?? options.reason}`
                : `${workflowId} ended before the cancellation took effect: ${outcomeOf(result)}`,
            );
          });
        },
      ),
  );
}
