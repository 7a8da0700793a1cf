import type { Command } from 'commander';
import { resolveTemporalTarget } from '../config/temporalConnection';
import { loadCliConfig } from './loadCliConfig';

export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('inspect the connector settings');
  config
    .command('check')
    .description('validate the settings file and environment overrides; exits 2 with a report when invalid')
    .action((_options: unknown, command: Command) => {
      const { file, settings } = loadCliConfig(command);
      const temporal = resolveTemporalTarget(settings);
      console.log(`Settings OK (${file ?? 'embedded defaults'})`);
      console.log(
        `  Temporal: ${temporal.address} namespace ${temporal.namespace}, task queue ${temporal.taskQueue}`,
      );
      console.log(`  Connections: ${Object.keys(settings.Connections).join(', ') || '(none)'}`);
      console.log(
        `  Resource types: ${Object.keys(settings.TicketConnector.ResourceTypeMappings).join(', ') || '(none)'}`,
      );
    });
}
