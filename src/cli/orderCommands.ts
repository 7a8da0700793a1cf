import { readFile, stat } from 'node:fs/promises';
import { userInfo } from 'node:os';
import path from 'node:path';
import {
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowExecutionDescription,
} from '@temporalio/client';
import { Option, type Command } from 'commander';
import { bounded } from '../client/bounded';
import { orderHandle, startOrder, type StartedOrder } from '../client/provisioning';
import type { SettingsFile } from '../config/schema';
import { PROVISIONING_WORKFLOW_TYPE } from '../contract/names';
import type { ProvisioningInput } from '../contract/order';
import {
  DEFAULT_SETTLE_MS,
  parseOrderText,
  processOrdersFolder,
  watchOrdersFolder,
  type FileOutcome,
  type PassReport,
} from '../provisioning/orderFiles';
import {
  AssignmentId,
  ConnectionId,
  ProvisioningState,
  ResourceType,
  TicketNumber,
  TicketState,
} from '../contract/searchAttributes';
import { cancelRequestProblems, cancelUpdate, statusQuery } from '../contract/messages';
import type { ProvisioningResult, ProvisioningStatus } from '../contract/provisioning';
import {
  connectionId,
  durationOption,
  durationOrZero,
  formatDuration,
  formatFields,
  nonEmpty,
  plural,
  printJson,
  usageErrorsExit2,
  wholeNumber,
  printListing,
} from './cliOutput';
import { CliError } from './errors';
import { loadCliConfig } from './loadCliConfig';
import { cliErrorOf, connectTemporal, messageOf, withTemporal, type TemporalSession } from './temporalClient';

/**
 * Provisioning orders through Temporal: `provision` and `fulfill` start them (idempotently: the same order always
 * maps to the same workflow), `status`, `list` and `cancel` look at and revoke them.
 */

const LIST_STATES = ['Pending', 'Transmitted', 'Executed', 'Verified', 'Errored'] as const;

function describeOrder(input: ProvisioningInput): string {
  const { order } = input;
  const owner = order.Owner.Identifier ?? order.Owner.Id;
  return `${order.ChangeType} ${order.ResourceType.Identifier} for ${owner}, assignment ${order.AssignedResourceTypeId}`;
}

function invalidOrders(label: string, problems: readonly string[]): CliError {
  return new CliError(
    `Invalid orders in ${label} (${plural(problems.length, 'problem')}); nothing was started:\n` +
      problems.map((problem) => `  - ${problem}`).join('\n'),
    2,
  );
}

async function readSource(source: string): Promise<{ label: string; text: string }> {
  if (source === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin)
      chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
    return { label: 'standard input', text: Buffer.concat(chunks).toString('utf8') };
  }
  try {
    return { label: source, text: await readFile(source, 'utf8') };
  } catch (error) {
    throw new CliError(`Cannot read the order file ${source}: ${messageOf(error)}`, 2);
  }
}

/**
 * Orders name a connection the worker's settings must define. The CLI may run where none is defined (Identity
 * Manager's host): only settings that define connections, but not this one, are worth a warning.
 */
function warnUnknownConnections(settings: SettingsFile, connections: readonly string[]): void {
  const defined = Object.keys(settings.Connections);
  if (defined.length === 0) return;
  for (const connection of new Set(connections)) {
    if (!defined.includes(connection)) {
      console.error(
        `Warning: connection ${connection} is not defined under Connections in these settings (${defined.join(', ')}); ` +
          "the worker's settings must define it, or its orders fail.",
      );
    }
  }
}

function defaultOperator(): string {
  try {
    return userInfo().username;
  } catch {
    return 'snow-ticket';
  }
}

interface StartedJson {
  readonly workflowId: string;
  readonly started: boolean;
  readonly superseded: readonly string[];
  readonly assignmentId: string;
  readonly changeType: string;
  readonly resourceType: string;
}

function startedJson(input: ProvisioningInput, started: StartedOrder): StartedJson {
  return {
    ...started,
    assignmentId: input.order.AssignedResourceTypeId,
    changeType: input.order.ChangeType,
    resourceType: input.order.ResourceType.Identifier,
  };
}

function startedLines(input: ProvisioningInput, started: StartedOrder, indent = ''): string[] {
  return [
    `${indent}${(started.started ? 'started' : 'attached').padEnd(10)}${started.workflowId}  (${describeOrder(input)})`,
    ...started.superseded.map((id) => `${indent}${''.padEnd(10)}superseded ${id}`),
  ];
}

/** One start, bounded by a deadline and interrupted by the signal (its outcome is then unknown: retry it). */
function boundedStart(
  session: TemporalSession,
  options: { timeoutMs: number; requestedBy?: string; signal?: AbortSignal },
): (input: ProvisioningInput) => Promise<StartedOrder> {
  const { client, target } = session;
  return async (input) => {
    try {
      return await bounded(client, options, () =>
        startOrder(client, input, { taskQueue: target.taskQueue, requestedBy: options.requestedBy }),
      );
    } catch (error) {
      throw new Error(messageOf(cliErrorOf(error, target)), { cause: error });
    }
  };
}

// ---------------------------------------------------------------------------------------------------------
// provision
// ---------------------------------------------------------------------------------------------------------

function registerProvision(program: Command): void {
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
          const { settings } = loadCliConfig(command);
          warnUnknownConnections(
            settings,
            parsed.inputs.map((input) => input.connection),
          );
          await withTemporal(settings, async (session) => {
            const start = boundedStart(session, { timeoutMs: options.timeout, requestedBy: options.by });
            const done: StartedJson[] = [];
            for (const [index, input] of parsed.inputs.entries()) {
              let started: StartedOrder;
              try {
                started = await start(input);
              } catch (error) {
                if (options.json) printJson(done);
                throw new CliError(
                  `Order ${index + 1} of ${parsed.inputs.length} (${describeOrder(input)}) could not be started: ` +
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

// ---------------------------------------------------------------------------------------------------------
// fulfill
// ---------------------------------------------------------------------------------------------------------

function relative(dir: string, file: string): string {
  return path.relative(dir, file) || file;
}

function outcomeLines(dir: string, outcome: FileOutcome<StartedOrder>): string[] {
  switch (outcome.kind) {
    case 'processed': {
      const attached = outcome.started.filter(({ result }) => !result.started).length;
      const counts = `${outcome.started.length - attached} started, ${attached} attached`;
      return [
        `processed  ${outcome.file}: ${plural(outcome.started.length, 'order')} (${counts}) -> ${relative(dir, outcome.movedTo)}`,
        ...outcome.started.flatMap(({ input, result }) => startedLines(input, result, '             ')),
      ];
    }
    case 'invalid':
      return [
        `invalid    ${outcome.file}: ${plural(outcome.problems.length, 'problem')}, nothing started -> ` +
          `${relative(dir, outcome.movedTo)} (see ${relative(dir, outcome.errorFile)})`,
        ...outcome.problems.map((problem) => `             - ${problem}`),
      ];
    case 'retry':
      return [
        outcome.failedOrder === undefined
          ? `retry      ${outcome.file}: ${outcome.reason}; the file stays for the next pass`
          : `retry      ${outcome.file}: order ${outcome.failedOrder + 1} of ${outcome.total} was not started ` +
            `(${outcome.reason}); the file stays and is retried whole on the next pass`,
      ];
    case 'unreadable':
      return [`unreadable ${outcome.file}: ${outcome.reason}`];
  }
}

function passJson(report: PassReport<StartedOrder>) {
  return {
    files: report.files.map((outcome) => {
      if (outcome.kind === 'processed' || outcome.kind === 'retry') {
        const { started, ...rest } = outcome;
        return { ...rest, orders: started.map(({ input, result }) => startedJson(input, result)) };
      }
      return outcome;
    }),
    settling: report.settling,
    notReached: report.notReached,
    ...(report.stoppedBy !== undefined && { stoppedBy: report.stoppedBy }),
  };
}

function printPass(
  dir: string,
  report: PassReport<StartedOrder>,
  options: { json?: boolean; stamp: boolean },
): void {
  if (options.json) {
    console.log(JSON.stringify({ at: new Date().toISOString(), ...passJson(report) }));
    return;
  }
  const prefix = options.stamp ? `${new Date().toISOString()} ` : '';
  for (const outcome of report.files) {
    const lines = outcomeLines(dir, outcome);
    const print = outcome.kind === 'processed' ? console.log : console.error;
    for (const line of lines) print(`${prefix}${line}`);
  }
  if (report.notReached.length > 0) {
    console.error(
      `${prefix}waiting    ${report.notReached.join(', ')}: not reached in this pass (order is kept)`,
    );
  }
}

interface FulfillOptions {
  ordersDir: string;
  connection: string;
  once?: boolean;
  interval: number;
  settle: number;
  timeout: number;
  by: string;
  json?: boolean;
}

function registerFulfill(program: Command): void {
  usageErrorsExit2(
    program
      .command('fulfill')
      .summary('start the orders Identity Manager writes into a folder, file by file')
      .description(
        'start the orders of the Identity Manager order files (*.json) written into a folder; processed files move to processed/, invalid ones to failed/',
      )
      .requiredOption('--orders-dir <dir>', 'the folder Identity Manager writes its order files into')
      .addOption(
        new Option('--connection <id>', 'ServiceNow connection the orders are for (a key of Connections)')
          .argParser(connectionId)
          .makeOptionMandatory(),
      )
      .option('--once', 'process the folder once and exit (for cron jobs and tests)')
      .addOption(durationOption('--interval <duration>', 'wait between two passes', 10_000))
      .addOption(
        durationOption(
          '--settle <duration>',
          'leave files modified more recently than this for a later pass (0s: take every file at once)',
          DEFAULT_SETTLE_MS,
          durationOrZero,
        ),
      )
      .addOption(
        durationOption(
          '--timeout <duration>',
          'give up on one start after this long (the file is retried)',
          30_000,
        ),
      )
      .option('--by <who>', 'who asks, kept when a Deleted order revokes pending grants', 'Identity Manager')
      .option('--json', 'one JSON report per pass, one line each')
      .addHelpText(
        'after',
        `
How a file is handled, oldest first (by modification time, then name):
  - only *.json files are taken (write "orders.tmp", then rename it to "orders.json"), and only once
    they have not been modified for --settle (1s by default), so a file still being written is left alone;
  - every order is validated first; a file with any problem moves to failed/ with <name>.error.txt next
    to it listing every problem, and none of its orders is started;
  - otherwise each order is started; the file moves to processed/ only when the server acknowledged every
    start (started, or attached to the run of the same order). If a start fails, the file stays and the
    pass stops (a later file never overtakes it); the next pass starts all its orders again, which attaches
    to those already started: nothing is lost or duplicated, even after a crash.
  - moves are renames inside the folder; a name taken in processed/ or failed/ gets a suffix (orders-1.json).
Run one fulfill per folder. Ctrl-C (SIGINT) or SIGTERM stops after the current start; a second one exits at once.

Exit codes (--once): 0 every ready file was processed or moved to failed/; 1 a file was left for a
retry (a start failed); 2 bad options or no such folder.

Examples:
  $ snow-ticket fulfill --orders-dir /var/lib/identitymanager/orders --connection Main
  $ snow-ticket fulfill --orders-dir ./orders --connection Main --once --json
  $ snow-ticket fulfill --orders-dir ./orders --connection Main --interval 30s`,
      )
      .action(async (options: FulfillOptions, command: Command) => {
        const dir = path.resolve(options.ordersDir);
        const isFolder = await stat(dir).then(
          (stats) => stats.isDirectory(),
          () => false,
        );
        if (!isFolder) throw new CliError(`The orders folder ${dir} does not exist or is not a folder`, 2);
        const { settings } = loadCliConfig(command);
        warnUnknownConnections(settings, [options.connection]);
        // Lazy: a Temporal server that is down or restarting fails starts (files are retried), not the command.
        const session = await connectTemporal(settings, { lazy: true });
        const controller = new AbortController();
        let interrupts = 0;
        const onSignal = (signal: NodeJS.Signals) => {
          interrupts += 1;
          if (interrupts > 1) process.exit(130);
          console.error(
            `${signal}: stopping (files not fully started stay in place and are retried on the next run)`,
          );
          controller.abort();
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        try {
          const folder = {
            dir,
            connection: options.connection,
            settleMs: options.settle,
            signal: controller.signal,
            start: boundedStart(session, {
              timeoutMs: options.timeout,
              requestedBy: options.by,
              signal: controller.signal,
            }),
          };
          if (options.once) {
            const report = await processOrdersFolder(folder);
            printPass(dir, report, { json: options.json, stamp: false });
            if (!options.json && report.files.length === 0 && report.notReached.length === 0) {
              console.log(
                report.settling.length === 0
                  ? `No order files waiting in ${dir}.`
                  : `No order files ready in ${dir}; ${plural(report.settling.length, 'file')} modified in the last ${formatDuration(options.settle)} left for the next pass.`,
              );
            }
            const left = report.files.filter(
              (outcome) => outcome.kind === 'retry' || outcome.kind === 'unreadable',
            );
            if (left.length > 0 || report.stoppedBy !== undefined) {
              throw new CliError(
                `${plural(left.length + report.notReached.length, 'file')} left in ${dir} for the next pass.`,
              );
            }
            return;
          }
          if (!options.json) {
            console.log(
              `Watching ${dir} every ${formatDuration(options.interval)} for orders of connection ${options.connection} ` +
                `(Temporal ${session.target.address}, namespace ${session.target.namespace}, task queue ${session.target.taskQueue}). Ctrl-C stops.`,
            );
          }
          await watchOrdersFolder({
            ...folder,
            signal: controller.signal,
            intervalMs: options.interval,
            onPass: (report) => printPass(dir, report, { json: options.json, stamp: true }),
            onError: (error) =>
              console.error(`${new Date().toISOString()} cannot read ${dir}: ${messageOf(error)}`),
          });
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          await session.close();
        }
      }),
  );
}

// ---------------------------------------------------------------------------------------------------------
// status
// ---------------------------------------------------------------------------------------------------------

async function describeOrderWorkflow(
  client: Client,
  workflowId: string,
): Promise<WorkflowExecutionDescription> {
  const description = await orderHandle(client, workflowId).describe();
  if (description.type !== PROVISIONING_WORKFLOW_TYPE) {
    throw new CliError(`${workflowId} is a ${description.type} workflow, not a provisioning order`, 2);
  }
  return description;
}

function searchAttributesOf(description: {
  typedSearchAttributes: WorkflowExecutionDescription['typedSearchAttributes'];
}) {
  const get = (key: typeof TicketNumber) => description.typedSearchAttributes.get(key);
  return {
    provisioningState: get(ProvisioningState),
    ticketNumber: get(TicketNumber),
    ticketState: get(TicketState),
    assignmentId: get(AssignmentId),
    resourceType: get(ResourceType),
    connection: get(ConnectionId),
  };
}

/** `Executed: ticket INC0010001 closed`, `Errored: revoked (ticket INC0010002, Canceled)`. */
export function outcomeOf(result: ProvisioningResult): string {
  const { ticket, resolution, provisioningState } = result;
  if (ticket !== undefined && resolution.startsWith('ticket-')) {
    return `${provisioningState}: ticket ${ticket.number} ${resolution.slice('ticket-'.length)}`;
  }
  const about =
    ticket === undefined
      ? 'no ticket'
      : `ticket ${ticket.number}${ticket.stateLabel === undefined ? '' : `, ${ticket.stateLabel}`}`;
  return `${provisioningState}: ${resolution.replace(/-/g, ' ')} (${about})`;
}

function titleCase(status: string): string {
  return status.charAt(0) + status.slice(1).toLowerCase().replace(/_/g, ' ');
}

interface StatusReport {
  readonly workflowId: string;
  readonly runId: string;
  readonly execution: string;
  readonly startTime: string;
  readonly closeTime?: string;
  readonly status?: ProvisioningStatus;
  readonly result?: ProvisioningResult;
  readonly failure?: string;
  readonly queryError?: string;
  readonly searchAttributes: ReturnType<typeof searchAttributesOf>;
}

async function statusReport(client: Client, workflowId: string, timeoutMs: number): Promise<StatusReport> {
  const handle = orderHandle(client, workflowId);
  const description = await describeOrderWorkflow(client, workflowId);
  const running = description.status.name === 'RUNNING';
  let status: ProvisioningStatus | undefined;
  let queryError: string | undefined;
  try {
    status = await client.withDeadline(Date.now() + timeoutMs, () => handle.query(statusQuery));
  } catch (error) {
    // A closed order is answered by a worker replaying its history; without one, its result still tells.
    queryError = messageOf(error);
  }
  let result = status?.result;
  let failure: string | undefined;
  if (!running && result === undefined) {
    try {
      result = await client.withDeadline(Date.now() + timeoutMs, () => handle.result());
    } catch (error) {
      failure =
        error instanceof WorkflowFailedError
          ? `${titleCase(description.status.name)}: ${error.cause?.message ?? error.message}`
          : messageOf(error);
    }
  }
  return {
    workflowId,
    runId: description.runId,
    execution: description.status.name,
    startTime: description.startTime.toISOString(),
    closeTime: description.closeTime?.toISOString(),
    status,
    result,
    failure,
    queryError,
    searchAttributes: searchAttributesOf(description),
  };
}

function printStatus(report: StatusReport): void {
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
        `${titleCase(report.execution)} (started ${report.startTime}` +
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

function registerStatus(program: Command): void {
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
        const { settings } = loadCliConfig(command);
        await withTemporal(settings, async ({ client }) => {
          const report = await statusReport(client, workflowId, options.timeout);
          if (options.json) printJson(report);
          else printStatus(report);
        });
      }),
  );
}

// ---------------------------------------------------------------------------------------------------------
// list
// ---------------------------------------------------------------------------------------------------------

/** A string literal of a visibility query: backslashes and quotes escaped, so a value cannot end it. */
export function visibilityLiteral(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export function listQuery(filters: {
  state?: string;
  ticket?: string;
  assignment?: string;
  connection?: string;
}): string {
  return [
    `WorkflowType = ${visibilityLiteral(PROVISIONING_WORKFLOW_TYPE)}`,
    ...(filters.state === undefined ? [] : [`ProvisioningState = ${visibilityLiteral(filters.state)}`]),
    ...(filters.ticket === undefined ? [] : [`TicketNumber = ${visibilityLiteral(filters.ticket)}`]),
    ...(filters.assignment === undefined ? [] : [`AssignmentId = ${visibilityLiteral(filters.assignment)}`]),
    ...(filters.connection === undefined ? [] : [`ConnectionId = ${visibilityLiteral(filters.connection)}`]),
  ].join(' AND ');
}

interface ListOptions {
  state?: string;
  ticket?: string;
  assignment?: string;
  connection?: string;
  limit: number;
  json?: boolean;
}

function registerList(program: Command): void {
  usageErrorsExit2(
    program
      .command('list')
      .summary('list provisioning orders by state, ticket or assignment')
      .description(
        "list provisioning orders through Temporal's visibility, by provisioning state, ticket or assignment",
      )
      .addOption(new Option('--state <state>', 'provisioning state').choices(LIST_STATES))
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
        const { settings } = loadCliConfig(command);
        const query = listQuery(options);
        await withTemporal(settings, async ({ client }) => {
          const rows = [];
          for await (const execution of client.workflow.list({
            query,
            pageSize: Math.min(options.limit, 1000),
          })) {
            rows.push({
              workflowId: execution.workflowId,
              runId: execution.runId,
              execution: execution.status.name,
              startTime: execution.startTime.toISOString(),
              closeTime: execution.closeTime?.toISOString(),
              ...searchAttributesOf(execution),
            });
            if (rows.length >= options.limit) break;
          }
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
              titleCase(row.execution),
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

// ---------------------------------------------------------------------------------------------------------
// cancel
// ---------------------------------------------------------------------------------------------------------

async function finishedMessage(client: Client, workflowId: string, execution: string): Promise<string> {
  let outcome = titleCase(execution);
  try {
    outcome = outcomeOf(await orderHandle(client, workflowId).result());
  } catch {
    // Failed, terminated, canceled: the execution status says enough.
  }
  return `The order ${workflowId} has already finished (${outcome}): there is nothing to cancel.`;
}

function registerCancel(program: Command): void {
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
          const { settings } = loadCliConfig(command);
          await withTemporal(settings, async ({ client }) => {
            const description = await describeOrderWorkflow(client, workflowId);
            if (description.status.name !== 'RUNNING') {
              throw new CliError(await finishedMessage(client, workflowId, description.status.name));
            }
            let result: ProvisioningResult;
            try {
              result = await client.withDeadline(Date.now() + options.timeout, () =>
                orderHandle(client, workflowId).executeUpdate(cancelUpdate, {
                  args: [{ reason: options.reason, requestedBy }],
                }),
              );
            } catch (error) {
              if (error instanceof WorkflowUpdateFailedError) {
                throw new CliError(
                  `The order ${workflowId} was not canceled: ${error.cause?.message ?? error.message}`,
                );
              }
              if (error instanceof WorkflowNotFoundError) {
                throw new CliError(await finishedMessage(client, workflowId, 'COMPLETED'));
              }
              throw new CliError(
                `The cancellation of ${workflowId} was not carried out within ${formatDuration(options.timeout)} ` +
                  `(${messageOf(error)}); it may still be once a worker runs: check snow-ticket status ${workflowId}`,
              );
            }
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

export function registerOrderCommands(program: Command): void {
  registerProvision(program);
  registerFulfill(program);
  registerStatus(program);
  registerList(program);
  registerCancel(program);
}
