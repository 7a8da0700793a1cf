import { ConfigError } from '../config/configError';

/**
 * A credential store could not give the settings it holds: unreachable, refused us, or misses a value. Each
 * problem names the setting (or the store's own setting) and says why; values never appear. A ConfigError, so
 * that every entry point reports it as it reports a bad settings file (exit code 2, no stack trace).
 */
export class CredentialStoreError extends ConfigError {
  constructor(
    /** "Azure Key Vault https://x.vault.azure.net", "CyberArk https://ccp.example.com (safe S)", ... */
    readonly store: string,
    problems: string[],
  ) {
    super(store, problems);
    this.name = 'CredentialStoreError';
    this.message =
      `Cannot read settings from ${store} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
      problems.map((problem) => `  - ${problem}`).join('\n');
  }
}
