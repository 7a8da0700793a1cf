import { Command } from 'commander';
import { notifyTarget, UnsafeNotifyUrlError } from './notifications';
import { wholeNumber } from './optionParsers';
import { startSimulator } from './server';

interface MainOptions {
  port: number;
  host: string;
  allowRemote?: boolean;
  adminPassword?: string;
  clientId?: string;
  clientSecret?: string;
  clientCredentials?: boolean;
  rateLimitPerHour?: number;
  maxConcurrent?: number;
  seedUsers: number;
  seedGroups: number;
  membershipsPerUser: number;
  notifyUrl?: string;
  notifySecret?: string;
  notifyDelayMs?: number;
  randomSeed?: number;
  stateFile?: string;
  verbose?: boolean;
}

const program = new Command('servicenow-sim')
  .description('a local ServiceNow instance for tests, demos and benchmarks (npm run servicenow:sim)')
  .option('--port <port>', 'port to listen on (0 picks a free one)', wholeNumber(0, 65535), 8090)
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .option('--allow-remote', 'allow a non-loopback --host (generated credentials are printed in clear)')
  .option('--admin-password <password>', 'admin password (default: $SNOW_SIM_PASSWORD, else generated)')
  .option('--client-id <id>', 'OAuth client id (default: generated)')
  .option(
    '--client-secret <secret>',
    'OAuth client secret (default: $SNOW_SIM_CLIENT_SECRET, else generated)',
  )
  .option('--client-credentials', 'enable the OAuth client_credentials grant, running as the admin')
  .option('--rate-limit-per-hour <n>', 'hourly rate-limit rule per user', wholeNumber(1, 1e9))
  .option('--max-concurrent <n>', 'requests in flight before a bare 429', wholeNumber(1, 1e6))
  .option('--seed-users <n>', 'users to create at startup', wholeNumber(0, 1_000_000), 0)
  .option('--seed-groups <n>', 'groups to create at startup', wholeNumber(0, 100_000), 0)
  .option('--memberships-per-user <n>', 'groups each seeded user joins', wholeNumber(0, 100), 1)
  .option(
    '--notify-url <url>',
    'POST ticket changes to this URL, as the business rule does (https, or http to a loopback host)',
  )
  .option(
    '--notify-secret <secret>',
    `shared secret signing each notification (X-Snow-Signature; default: $SNOW_SIM_NOTIFY_SECRET)`,
  )
  .option('--notify-delay-ms <ms>', 'hold notifications this long', wholeNumber(0, 3_600_000))
  .option('--random-seed <n>', 'seed for reproducible faults', wholeNumber(0, 2 ** 32 - 1))
  .option(
    '--state-file <file>',
    'keep the data across restarts: loaded at start if it exists, saved after changes and on exit',
  )
  .option('--verbose', 'log every request')
  .action(async (options: MainOptions) => {
    const adminPassword = givenSecret(options.adminPassword, '--admin-password', 'SNOW_SIM_PASSWORD');
    const clientSecret = givenSecret(options.clientSecret, '--client-secret', 'SNOW_SIM_CLIENT_SECRET');
    const notifySecret = givenSecret(options.notifySecret, '--notify-secret', 'SNOW_SIM_NOTIFY_SECRET');
    if (options.notifyUrl !== undefined) checkNotifyUrl(options.notifyUrl);
    if (options.notifyUrl !== undefined && notifySecret === undefined) {
      program.error('--notify-url needs --notify-secret (or $SNOW_SIM_NOTIFY_SECRET)');
    }
    const simulator = await startSimulator({
      port: options.port,
      host: options.host,
      allowRemote: options.allowRemote,
      admin: { password: adminPassword?.value },
      oauth: {
        clientId: options.clientId,
        clientSecret: clientSecret?.value,
        clientCredentials: { enabled: options.clientCredentials === true },
      },
      rateLimit:
        options.rateLimitPerHour === undefined ? undefined : { requestsPerHour: options.rateLimitPerHour },
      maxConcurrent: options.maxConcurrent,
      notify:
        options.notifyUrl === undefined || notifySecret === undefined
          ? undefined
          : { url: options.notifyUrl, secret: notifySecret.value, delayMs: options.notifyDelayMs },
      randomSeed: options.randomSeed,
      stateFile: options.stateFile,
      verbose: options.verbose,
    });
    if (options.seedUsers > 0 || options.seedGroups > 0) {
      simulator.instance.seedDirectory({
        users: options.seedUsers,
        groups: options.seedGroups,
        membershipsPerUser: options.membershipsPerUser,
        roles: 0,
      });
    }
    const { credentials } = simulator;
    console.log(`ServiceNow simulator listening on ${simulator.url}`);
    console.log(`  Table API     ${simulator.tableApiUrl}`);
    console.log(`  OAuth         ${simulator.oauthUrl}`);
    console.log(`  Admin API     ${simulator.url}/sim/admin`);
    if (options.stateFile !== undefined) console.log(`  State file    ${options.stateFile}`);
    console.log(`  Login         ${credentials.login} / ${printable(credentials.password, adminPassword)}`);
    console.log(
      `  OAuth client  ${credentials.clientId} / ${printable(credentials.clientSecret, clientSecret)}`,
    );
    console.log(`  Operate it    SNOW_SIM_URL=${simulator.url} SNOW_SIM_PASSWORD=... snow-ticket sim --help`);
    const stop = () => {
      console.log('Stopping the simulator');
      simulator.close().catch((error: unknown) => {
        console.error(error);
        process.exitCode = 1;
      });
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

/** A secret the operator supplied, and where from: the option wins over the environment; empty is not given. */
interface GivenSecret {
  readonly value: string;
  readonly source: string;
}

function givenSecret(
  option: string | undefined,
  optionName: string,
  variable: string,
): GivenSecret | undefined {
  if (option) return { value: option, source: optionName };
  const value = process.env[variable];
  return value ? { value, source: `$${variable}` } : undefined;
}

/**
 * Only a secret the simulator generated is printed, since nobody could use it otherwise; one the operator
 * supplied is already known to them and is named by where it came from, so that it never reaches a terminal
 * log or a CI transcript.
 */
function printable(secret: string, given: GivenSecret | undefined): string {
  return given === undefined ? secret : `(as given in ${given.source})`;
}

/** Refused before anything starts, in the option's own name (commander's parsers would echo the URL). */
function checkNotifyUrl(url: string): void {
  try {
    notifyTarget(url, '--notify-url');
  } catch (error) {
    if (error instanceof UnsafeNotifyUrlError) program.error(error.message);
    throw error;
  }
}

program.parseAsync().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
