import { Option, type Command } from 'commander';
import {
  InvalidPasswordResetError,
  PasswordResetFailedError,
  resetPassword,
  type ResetPasswordOutcome,
} from '../client/passwordReset';
import { passwordTaskQueue } from '../contract/names';
import { PasswordFailureTypes, type PasswordUser } from '../contract/passwordReset';
import { connectionId, nonEmpty, printJson, usageErrorsExit2 } from './cliOutput';
import { CliError } from './errors';
import { loadCliConfig } from './loadCliConfig';
import { warnUnknownConnections } from './orders/shared';
import { passwordFromFile, passwordFromPrompt, passwordFromStdin } from './passwordPrompt';
import { withTemporal } from './temporalClient';

interface ResetOptions {
  connection: string;
  userName?: string;
  sysId?: string;
  passwordFile?: string;
  passwordStdin?: boolean;
  requestId?: string;
  wait: boolean;
  json?: boolean;
}

/** What each refusal is called on the operator's screen. */
const REFUSALS: Readonly<Record<string, string>> = {
  [PasswordFailureTypes.unknownUser]: 'Unknown user',
  [PasswordFailureTypes.rejected]: 'Rejected by the password policy',
  [PasswordFailureTypes.notAllowed]: 'Not allowed',
  [PasswordFailureTypes.wrongTaskQueue]: 'Refused on a task queue that does not encrypt',
  [PasswordFailureTypes.invalidInput]: 'Invalid password reset',
  UnknownConnection: 'Unknown connection',
};

function userOf(options: ResetOptions): PasswordUser {
  if ((options.userName === undefined) === (options.sysId === undefined)) {
    throw new CliError('Give exactly one of --user-name and --sys-id', 2);
  }
  return options.sysId === undefined ? { userName: options.userName ?? '' } : { sysId: options.sysId };
}

async function newPassword(options: ResetOptions): Promise<string> {
  if (options.passwordFile !== undefined && options.passwordStdin) {
    throw new CliError('Give --password-file or --password-stdin, not both', 2);
  }
  if (options.passwordFile !== undefined) return passwordFromFile(options.passwordFile);
  if (options.passwordStdin) return passwordFromStdin();
  if (process.stdin.isTTY) return passwordFromPrompt();
  throw new CliError(
    'No password: standard input is not a terminal, so give --password-file <file> or --password-stdin',
    2,
  );
}

function outcomeLines(outcome: ResetOptions & { taskQueue: string }, reset: ResetPasswordOutcome): string[] {
  const { result } = reset;
  if (result === undefined) {
    return [
      `${reset.started ? 'started' : 'attached'}  ${reset.workflowId} on task queue ${outcome.taskQueue}`,
      '(not waiting: see its outcome with `temporal workflow show`, or in the Web UI with the codec server)',
    ];
  }
  return [
    `Password set for ${result.userName} (sys_id ${result.sysId}) on connection ${result.connection}`,
    `password_needs_reset: ${String(result.passwordNeedsReset)}`,
    `workflow: ${reset.workflowId}${reset.started ? '' : ' (attached to the run of this request id)'}`,
  ];
}

/** `password reset`: sets a ServiceNow user's password through the password reset workflow. */
export function registerPasswordCommands(program: Command): void {
  const password = program
    .command('password')
    .description('ServiceNow password resets, through Temporal (encrypted end to end)');
  usageErrorsExit2(
    password
      .command('reset')
      .summary("set a ServiceNow user's password and force a change at next login")
      .description(
        "set a ServiceNow user's password and set password_needs_reset, through the password reset workflow on " +
          'the password task queue (<TaskQueue>-passwords); needs an active payload key ' +
          '(TicketConnector.Encryption.ActiveKey), since the password travels only encrypted',
      )
      .addOption(
        new Option('--connection <id>', 'ServiceNow connection (a key of Connections in the worker settings)')
          .argParser(connectionId)
          .makeOptionMandatory(),
      )
      .addOption(new Option('--user-name <name>', 'the user, by sys_user.user_name').argParser(nonEmpty))
      .addOption(new Option('--sys-id <id>', 'the user, by sys_user.sys_id').conflicts('userName'))
      .addOption(
        new Option(
          '--password-file <file>',
          'read the new password from this file (one trailing line break is dropped)',
        ),
      )
      .addOption(
        new Option('--password-stdin', 'read the new password from standard input').conflicts('passwordFile'),
      )
      .option(
        '--request-id <id>',
        'names this request: the same id attaches to its first run (default: random)',
      )
      .option('--no-wait', 'return once the reset is started')
      .option('--json', 'print the outcome as JSON')
      .addHelpText(
        'after',
        `
The password is never taken on the command line. Without --password-file or --password-stdin it is asked
for twice at the terminal, without echo. It is never printed.

Exit codes: 0 the password is set (or, with --no-wait, the reset started); 1 ServiceNow refused it (unknown
user, rejected by the password policy, not allowed) or Temporal failed; 2 bad options, no password, or no
active payload key.

Examples:
  $ snow-ticket password reset --connection Main --user-name jdoe
  $ snow-ticket password reset --connection Main --sys-id 62826bf03710200044e0bfc8bcbe5df1 --password-file ./pw.txt
  $ printf '%s' "$NEW_PASSWORD" | snow-ticket password reset --connection Main --user-name jdoe --password-stdin`,
      )
      .action(async (options: ResetOptions, command: Command) => {
        const user = userOf(options);
        const { settings } = await loadCliConfig(command);
        warnUnknownConnections(settings, [options.connection]);
        const secret = await newPassword(options);
        const taskQueue = settings.TicketConnector.Temporal.TaskQueue;
        const reset = await withTemporal(
          settings,
          async ({ client }) => {
            try {
              return await resetPassword(
                client,
                { connection: options.connection, user, password: secret },
                { taskQueue, requestId: options.requestId, wait: options.wait },
              );
            } catch (error) {
              if (error instanceof InvalidPasswordResetError) throw new CliError(error.message, 2);
              if (error instanceof PasswordResetFailedError) {
                const what = REFUSALS[error.type ?? ''] ?? 'Password not set';
                throw new CliError(`${what}: ${error.message}\n(workflow ${error.workflowId})`, 1);
              }
              throw error;
            }
          },
          { passwords: true },
        );
        if (options.json) printJson(reset);
        else
          for (const line of outcomeLines({ ...options, taskQueue: passwordTaskQueue(taskQueue) }, reset))
            console.log(line);
      }),
  );
}
