import { resolve } from 'node:path';
import { Argument, Option, type Command } from 'commander';
import { httpUrl, share, wholeNumber } from '../simulator/optionParsers';
import { TASK_TABLES } from '../simulator/businessRules';
import { CLOSE_OUTCOMES, type TicketAction } from '../simulator/ticketActions';
import {
  localSimulatorPort,
  readSimulatorCredentials,
  simulatorCredentialsFile,
} from '../stack/localSimulator';
import { formatTable } from './cliOutput';
import { CliError } from './errors';
import { loadCliFileConfig } from './loadCliConfig';

/** `snow-ticket sim ...`: operator controls of a running ServiceNow simulator, over its admin API. */

interface Connection {
  readonly url: string;
  readonly user: string;
  readonly password: string;
}

interface TicketSummary {
  readonly number: string;
  readonly table: string;
  readonly state_label: string;
  readonly short_description: string;
  readonly correlation_id: string;
  readonly sys_updated_on: string;
  readonly sys_mod_count: string;
}

interface TicketDetail {
  readonly table: string;
  readonly record: Readonly<Record<string, string>>;
  readonly journal: readonly { field: string; value: string; created_on: string; created_by: string }[];
}

function connectionOf(command: Command): Connection {
  const options = command.optsWithGlobals<{ url?: string; user?: string; password?: string }>();
  const password = options.password ?? (process.env.SNOW_SIM_PASSWORD || passwordOfLocalStack(command));
  const given =
    options.url ?? (process.env.SNOW_SIM_URL || `http://127.0.0.1:${localSimulatorPort(process.env)}`);
  return {
    url: simulatorUrl(given),
    user: options.user ?? process.env.SNOW_SIM_USER ?? 'admin',
    password,
  };
}

/** The URL every message names, so one holding credentials is refused without being repeated. */
function simulatorUrl(given: string): string {
  if (URL.canParse(given)) {
    const { username, password } = new URL(given);
    if (username !== '' || password !== '') {
      throw new CliError(
        'The simulator URL must not hold credentials: give them with --user and --password (or SNOW_SIM_USER and SNOW_SIM_PASSWORD)',
        2,
      );
    }
  }
  try {
    return httpUrl(given);
  } catch {
    throw new CliError(`The simulator URL must be an http:// or https:// URL, not '${given}'`, 2);
  }
}

/**
 * The admin password `npm start` keeps for its simulator, found through the settings' DataDirectory as `npm
 * start` finds it. Only read when no password was given, so that broken settings never stop an explicit call.
 */
function passwordOfLocalStack(command: Command): string {
  const missing = 'No admin password: none given (--password or SNOW_SIM_PASSWORD)';
  let dataDir: string;
  try {
    dataDir = resolve(loadCliFileConfig(command).settings.TicketConnector.DataDirectory);
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    throw new CliError(`${missing}, and npm start's cannot be located: ${error.message}`, 2);
  }
  const stored = readSimulatorCredentials(dataDir);
  if (stored === undefined) {
    const file = simulatorCredentialsFile(dataDir);
    throw new CliError(`${missing}, and none usable in ${file}, where npm start keeps it`, 2);
  }
  return stored.password;
}

async function callAdmin<T>(command: Command, method: string, path: string, body?: unknown): Promise<T> {
  const { url, user, password } = connectionOf(command);
  let response: Response;
  try {
    response = await fetch(`${url}/sim/admin${path}`, {
      method,
      headers: {
        authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(120_000),
    });
  } catch (error) {
    const cause =
      error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
    throw new CliError(`Cannot reach the simulator at ${url}: ${cause}`);
  }
  const answer = (await response.json().catch(() => undefined)) as { result?: T; error?: string } | undefined;
  if (response.status === 401) {
    throw new CliError(`The simulator at ${url} refused the admin credentials of '${user}'`);
  }
  if (answer === undefined) throw new CliError(`${url} did not answer like a ServiceNow simulator admin API`);
  if (!response.ok || answer.result === undefined) {
    throw new CliError(answer.error ?? `The simulator answered ${response.status}`);
  }
  return answer.result;
}

function truncate(text: string, length: number): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length <= length ? flat : `${flat.slice(0, length - 1)}…`;
}

function printTicket(ticket: TicketSummary): void {
  console.log(`${ticket.number} is ${ticket.state_label} (sys_mod_count ${ticket.sys_mod_count})`);
}

const byOption = () => new Option('--by <user_name>', 'fulfiller acting on the ticket (default: the admin)');
const notesOption = () => new Option('--notes <text>', 'notes written on the ticket');

function registerTicketAction(
  sim: Command,
  action: TicketAction,
  description: string,
  configure: (command: Command) => Command = (command) => command,
): void {
  configure(
    sim.command(`${action} <number>`).description(description).addOption(notesOption()).addOption(byOption()),
  ).action(async (number: string, options: Record<string, string | undefined>, command: Command) => {
    const body = { outcome: options.outcome, code: options.code, notes: options.notes, by: options.by };
    printTicket(
      await callAdmin<TicketSummary>(
        command,
        'POST',
        `/tickets/${encodeURIComponent(number)}/${action}`,
        body,
      ),
    );
  });
}

export function registerSimulatorCommands(program: Command): void {
  const sim = program
    .command('sim')
    .description('operate a running ServiceNow simulator (npm run servicenow:sim) through its admin API')
    .option(
      '--url <url>',
      'simulator URL (default: $SNOW_SIM_URL, else http://127.0.0.1:$SNOW_SIM_PORT, port 8090 by default, as npm start runs it)',
    )
    .option('--user <login>', 'admin login (default: $SNOW_SIM_USER or admin)')
    .option(
      '--password <password>',
      'admin password (default: $SNOW_SIM_PASSWORD, else the one npm start keeps in <DataDirectory>/simulator-credentials.json)',
    );

  sim
    .command('tickets')
    .description('list tickets with their state')
    .addOption(
      new Option('--table <table>', 'only this table (default: incident and sc_request)').choices(
        TASK_TABLES,
      ),
    )
    .addOption(
      new Option('--state <state>', 'which tickets').choices(['open', 'closed', 'all']).default('open'),
    )
    .action(async (options: { table?: string; state: string }, command: Command) => {
      const query = new URLSearchParams({
        state: options.state,
        ...(options.table && { table: options.table }),
      });
      const tickets = await callAdmin<TicketSummary[]>(command, 'GET', `/tickets?${query.toString()}`);
      if (tickets.length === 0) {
        console.log(`No ${options.state === 'all' ? '' : `${options.state} `}tickets.`);
        return;
      }
      console.log(
        formatTable(
          ['NUMBER', 'TABLE', 'STATE', 'SHORT DESCRIPTION', 'CORRELATION ID', 'UPDATED'],
          tickets.map((t) => [
            t.number,
            t.table,
            t.state_label,
            truncate(t.short_description, 40),
            t.correlation_id,
            t.sys_updated_on,
          ]),
        ),
      );
    });

  sim
    .command('show <number>')
    .description("print a ticket's fields and its journal (work notes, comments)")
    .option('--json', 'print the raw JSON')
    .action(async (number: string, options: { json?: boolean }, command: Command) => {
      const ticket = await callAdmin<TicketDetail>(command, 'GET', `/tickets/${encodeURIComponent(number)}`);
      if (options.json) {
        console.log(JSON.stringify(ticket, null, 2));
        return;
      }
      console.log(`${number} (${ticket.table})`);
      console.log(
        formatTable(
          ['FIELD', 'VALUE'],
          Object.entries(ticket.record).filter(([, value]) => value !== ''),
        ),
      );
      console.log(ticket.journal.length === 0 ? 'Journal: empty' : 'Journal:');
      for (const entry of ticket.journal) {
        console.log(`  ${entry.created_on} ${entry.created_by} (${entry.field}): ${entry.value}`);
      }
    });

  sim
    .command('user <user_name>')
    .description(
      "print a user's login state: active, locked out, password_needs_reset, whether a password is set",
    )
    .option('--json', 'print the raw JSON')
    .action(async (userName: string, options: { json?: boolean }, command: Command) => {
      const user = await callAdmin<Record<string, string | boolean>>(
        command,
        'GET',
        `/users/${encodeURIComponent(userName)}`,
      );
      if (options.json) {
        console.log(JSON.stringify(user, null, 2));
        return;
      }
      // The stored digest is never shown: the admin API does not even return it.
      console.log(
        formatTable(
          ['FIELD', 'VALUE'],
          Object.entries(user).map(([field, value]) => [field, String(value)]),
        ),
      );
    });

  registerTicketAction(sim, 'work', 'start working on a ticket (In Progress / Work in Progress)');
  registerTicketAction(sim, 'resolve', 'resolve an incident', (command) =>
    command.option('--code <close_code>', 'resolution code (default: "Solved (Permanently)")'),
  );
  registerTicketAction(
    sim,
    'close',
    'close a ticket: incidents with a resolution code, catalog tickets with an outcome',
    (command) =>
      command
        .option('--code <close_code>', 'incident resolution code (default: "Solved (Permanently)")')
        .addOption(
          new Option('--outcome <outcome>', 'catalog outcome (default: complete)').choices(CLOSE_OUTCOMES),
        ),
  );
  registerTicketAction(sim, 'cancel', 'cancel a ticket (incident Canceled, request Closed Cancelled)');

  sim
    .command('seed')
    .description('bulk-create users, groups, memberships and roles (for exports and benchmarks)')
    .option('--users <n>', 'users to create', wholeNumber(0, 1_000_000), 0)
    .option('--groups <n>', 'groups to create', wholeNumber(0, 100_000), 0)
    .option(
      '--memberships-per-user <n>',
      'groups each new user joins (up to --groups)',
      wholeNumber(0, 100),
      1,
    )
    .option('--roles <n>', 'roles to create; each new user is granted one of them', wholeNumber(0, 1000), 0)
    .action(
      async (
        options: { users: number; groups: number; membershipsPerUser: number; roles: number },
        command: Command,
      ) => {
        const seeded = await callAdmin<Record<string, number>>(command, 'POST', '/seed', options);
        console.log(
          `Seeded ${seeded.users} users, ${seeded.groups} groups, ${seeded.memberships} memberships, ` +
            `${seeded.roles} roles and ${seeded.roleGrants} role grants in ${seeded.took_ms} ms`,
        );
      },
    );

  sim
    .command('stats')
    .description('request counts by method and table, by status code, and table sizes')
    .action(async (_options: unknown, command: Command) => {
      const stats = await callAdmin<{
        requests: {
          total: number;
          byMethodAndTarget: Record<string, number>;
          byStatus: Record<string, number>;
        };
        tables: Record<string, number>;
        notifications: { delivered: number; failed: number; pending: number } | null;
      }>(command, 'GET', '/stats');
      console.log(`Requests: ${stats.requests.total}`);
      console.log(formatTable(['REQUEST', 'COUNT'], entriesOf(stats.requests.byMethodAndTarget)));
      console.log(formatTable(['STATUS', 'COUNT'], entriesOf(stats.requests.byStatus)));
      console.log(formatTable(['TABLE', 'RECORDS'], entriesOf(stats.tables)));
      if (stats.notifications !== null) {
        const { delivered, failed, pending } = stats.notifications;
        console.log(`Notifications: ${delivered} delivered, ${failed} failed, ${pending} pending`);
      }
    });

  sim
    .command('reset')
    .description('drop all data, tokens, counters and faults: back to the startup state')
    .action(async (_options: unknown, command: Command) => {
      await callAdmin(command, 'POST', '/reset');
      console.log('The simulator is back to its startup state.');
    });

  sim
    .command('faults')
    .description('show or change injected faults (only the options given change)')
    .option('--error-rate <share>', 'share of requests answered 500/503', share)
    .option('--latency-ms <ms>', 'delay added to every answer', wholeNumber(0, 60_000))
    .option('--drop-rate <share>', 'share of connections dropped without an answer', share)
    .option('--burst-429 <n>', 'refuse the next N requests with 429', wholeNumber(0, 1_000_000))
    .option('--retry-after <seconds>', 'Retry-After of the 429 burst', wholeNumber(0, 3600))
    .option('--fail-after-commit <share>', 'share of writes committed but answered 500 or dropped', share)
    .action(async (options: Record<string, number | undefined>, command: Command) => {
      const changes = {
        errorRate: options.errorRate,
        latencyMs: options.latencyMs,
        dropRate: options.dropRate,
        burst429: options.burst429,
        retryAfterSeconds: options.retryAfter,
        failAfterCommit: options.failAfterCommit,
      };
      const changed = Object.values(changes).some((value) => value !== undefined);
      const faults = await callAdmin<Record<string, number>>(
        command,
        changed ? 'PUT' : 'GET',
        '/faults',
        changed ? changes : undefined,
      );
      console.log(formatTable(['FAULT', 'VALUE'], entriesOf(faults)));
    });

  sim
    .command('hibernate')
    .description('make every instance URL answer the HTML page of a hibernating instance, or wake it up')
    .addArgument(new Argument('<state>', 'on or off').choices(['on', 'off']))
    .action(async (state: string, _options: unknown, command: Command) => {
      const result = await callAdmin<{ hibernating: boolean }>(command, 'PUT', '/hibernate', {
        hibernating: state === 'on',
      });
      console.log(result.hibernating ? 'The simulator is hibernating.' : 'The simulator is awake.');
    });
}

function entriesOf(counts: Readonly<Record<string, number>>): string[][] {
  return Object.entries(counts).map(([name, value]) => [name, String(value)]);
}
