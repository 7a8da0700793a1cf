import type { Command } from 'commander';
import {
  ConfigError,
  loadConfig,
  loadSettings,
  type LoadedConfig,
  type LoadedSettings,
} from '../config/load';
import { CliError } from './errors';

/**
 * Loads settings for a command from every source (the file, the encrypted file, the credential stores, the
 * environment), turning a validation or store failure into the exit-code-2 report.
 */
export async function loadCliConfig(command: Command): Promise<LoadedSettings> {
  const { config } = command.optsWithGlobals<{ config?: string }>();
  try {
    return await loadSettings({ file: config });
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message, 2);
    throw error;
  }
}

/** The settings file and environment only, without asking any credential store: for settings that are no secret. */
export function loadCliFileConfig(command: Command): LoadedConfig {
  const { config } = command.optsWithGlobals<{ config?: string }>();
  try {
    return loadConfig({ file: config });
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message, 2);
    throw error;
  }
}
