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
  .option('--allow-remote', 'allow a non-loopback --host (the credentials are printed in clear)')
  .option('--admin-password <password>', 'admin password (default: $SNOW_SIM_PASSWORD, else generated)')
  .option('--client-id <id>', 'OAuth client id (default: generated)')
  .option('--client-secret <secret>', 'OAuth client secret (default: generated)')
  .option('--client-credentials', 'enable the OAuth client_credentials grant, running as the admin')
  .option('--rate-limit-per-hour <n>', 'hourly rate-limit rule per user', wholeNumber(1, 1e9))
  .option('--max-concurrent <n>', 'requests in flight before a bare 429', wholeNumber(1, 1e6))
  .option('--seed-users <n>', 'users to create at startup', wholeNumber(0, 1_000_000), 0)
  .option('--seed-groups <n>', 'groups to create at startup', wholeNumber(0, 100_000), 0)
  .option('--memberships-per-user <n>', 'groups each seeded user joins', wholeNumber(0, 100), 1)
  .option('--notify-url <url>', 'POST ticket changes to this URL (https, or http to a loopback host)')
  .option(
    '--notify-secret <secret>',
    `shared secret sent with each notification (default: $SNOW_SIM_NOTIFY_SECRET)`,
  )
  .option('--notify-delay-ms <ms>', 'hold notifications this long', wholeNumber(0, 3_600_000))
  .option('--random-seed <n>', 'seed for reproducible faults', wholeNumber(0, 2 ** 32 - 1))
  .option(
    '--state-file <file>',
    'keep the data across restarts: loaded at start if it exists, saved after changes and on exit',
  )
  .option('--verbose', 'log every request')
  .action(async (options: MainOptions) => {
    const notifySecret = options.notifySecret ?? process.env.SNOW_SIM_NOTIFY_SECRET;
    if (options.notifyUrl !== undefined) checkNotifyUrl(options.notifyUrl);
    if (options.notifyUrl !== undefined && !notifySecret) {
      program.error('--notify-url needs --notify-secret (or $SNOW_SIM_NOTIFY_SECRET)');
    }
    const simulator = await startSimulator({
      port: options.port,
      host: options.host,
      allowRemote: options.allowRemote,
      admin: { password: options.adminPassword ?? (process.env.SNOW_SIM_PASSWORD || undefined) },
      oauth: {
        clientId: options.clientId,
        clientSecret: options.clientSecret,
        clientCredentials: { enabled: options.clientCredentials === true },
      },
      rateLimit:
        options.rateLimitPerHour === undefined ? undefined : { requestsPerHour: options.rateLimitPerHour },
      maxConcurrent: options.maxConcurrent,
      notify:
        options.notifyUrl === undefined || !notifySecret
          ? undefined
          : { url: options.notifyUrl, secret: notifySecret, delayMs: options.notifyDelayMs },
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
    console.log(`  Login         ${credentials.login} / ${credentials.password}`);
    console.log(`  OAuth client  ${credentials.clientId} / ${credentials.clientSecret}`);
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
