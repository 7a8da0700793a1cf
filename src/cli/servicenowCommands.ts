import type { Command } from 'commander';
import { serviceNowClient } from '../platform/adapters';
import { UnknownConnectionError } from '../servicenow/connection';
import { IDENTITY_TABLES, TICKET_TABLES } from '../servicenow/tables';
import { CliError } from './errors';
import { loadCliConfig } from './loadCliConfig';

export function registerServiceNowCommands(program: Command): void {
  const servicenow = program
    .command('servicenow')
    .description('work with the configured ServiceNow connections');
  servicenow
    .command('check')
    .description('log in to each connection and check that it may read the tables the connector uses')
    .option('--connection <id>', 'check only this connection')
    .action(async (options: { connection?: string }, command: Command) => {
      const { settings } = await loadCliConfig(command);
      const ids = options.connection === undefined ? Object.keys(settings.Connections) : [options.connection];
      if (ids.length === 0)
        throw new CliError('No connection is defined under Connections in the settings.', 2);
      let failures = 0;
      for (const id of ids) {
        let client;
        try {
          client = serviceNowClient(settings, id);
        } catch (error) {
          if (error instanceof UnknownConnectionError) throw new CliError(error.message, 2);
          throw error;
        }
        const auth = settings.Connections[id]?.ClientId === undefined ? 'Basic' : 'OAuth';
        console.log(`${id} (${settings.Connections[id]?.Server}, ${auth})`);
        for (const result of await client.checkAccess([...TICKET_TABLES, ...IDENTITY_TABLES])) {
          if (result.error === undefined) {
            console.log(
              `  ok    ${result.table}${result.rowCount === undefined ? '' : ` (${result.rowCount} rows)`}`,
            );
          } else {
            failures++;
            console.log(`  FAIL  ${result.table}: ${result.error.message}`);
          }
        }
      }
      if (failures > 0) throw new CliError(`${failures} check${failures > 1 ? 's' : ''} failed.`);
    });
}
