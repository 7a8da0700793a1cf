import type { Command } from 'commander';
import { ConfigError } from '../config/load';
import { isSecretSetting } from '../config/schema';
import { resolveTemporalTarget } from '../config/temporalConnection';
import { compileMappings } from '../provisioning/templates';
import { CliError } from './errors';
import { loadCliConfig } from './loadCliConfig';

export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('inspect the connector settings');
  config
    .command('check')
    .description(
      'validate the settings file, environment overrides and ticket templates; exits 2 with a report when invalid',
    )
    .action(async (_options: unknown, command: Command) => {
      const { file, settings, sources } = await loadCliConfig(command);
      // Template syntax is checked here rather than per order, where a mistake would fail every ticket.
      const templateProblems = compileMappings(settings.TicketConnector.ResourceTypeMappings);
      if (templateProblems.length > 0) {
        throw new CliError(new ConfigError(file ?? 'embedded defaults', templateProblems).message, 2);
      }
      const temporal = resolveTemporalTarget(settings);
      console.log(`Settings OK (${file ?? 'embedded defaults'})`);
      console.log(
        `  Temporal: ${temporal.address} namespace ${temporal.namespace}, task queue ${temporal.taskQueue}`,
      );
      console.log(`  Connections: ${Object.keys(settings.Connections).join(', ') || '(none)'}`);
      console.log(
        `  Resource types: ${Object.keys(settings.TicketConnector.ResourceTypeMappings).join(', ') || '(none)'}`,
      );
      for (const line of sourceLines(sources)) console.log(line);
    });
}

/**
 * Where each secret, and each value a credential store gave, came from: file, encrypted file, Azure Key Vault
 * (which secret), CyberArk (which object) or environment variable (which one). Never the value.
 */
export function sourceLines(sources: ReadonlyMap<string, string>): string[] {
  const secret = (setting: string) => isSecretSetting(setting.split('.'));
  const shown = [...sources].filter(([setting, origin]) => secret(setting) || !origin.startsWith('file '));
  if (shown.length === 0) return [];
  return [
    '  Sources of secrets and stored settings (values are never shown):',
    ...shown.sort(([a], [b]) => a.localeCompare(b)).map(([setting, origin]) => `    ${setting}: ${origin}`),
  ];
}
