import type { Command } from 'commander';
import { ConfigError, loadConfig, type LoadedConfig } from '../config/load';
import { CliError } from './errors';

/** Loads settings for a command, turning a validation failure into the exit-code-2 report. */
export function loadCliConfig(command: Command): LoadedConfig {
  const { config } = command.optsWithGlobals<{ config?: string }>();
  try {
    return loadConfig({ file: config });
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message, 2);
    throw error;
  }
}
