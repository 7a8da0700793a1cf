import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import { isRestError, SecretClient, type SecretClientOptions } from '@azure/keyvault-secrets';
import { clip } from '../contract/limits';
import { CredentialStoreError } from './errors';
import type { SettingsSource, SettingValue } from './layers';

/** A vault that does not answer must not hold the start forever: each request gives up after this. */
const REQUEST_TIMEOUT_MS = 30_000;
const perRequest = { requestOptions: { timeout: REQUEST_TIMEOUT_MS } };

/** More secrets than this is not a settings vault; the listing stops rather than running on. */
const MAX_SECRETS = 2000;

export interface KeyVaultSourceOptions {
  /** `AzureKeyVault.Vault`: `https://<name>.vault.azure.net`. */
  readonly vault: string;
  /** Default: DefaultAzureCredential (environment, workload identity, managed identity, Azure CLI...). */
  readonly credential?: TokenCredential;
  /** Tests pass a TLS agent for their local vault and turn off the challenge's resource check. */
  readonly clientOptions?: SecretClientOptions;
}

/** `Connections--Main--Password` -> `Connections.Main.Password`; undefined for a name with an empty part. */
export function settingPathOfSecret(name: string): string[] | undefined {
  const path = name.split('--');
  return path.every((part) => part !== '') ? path : undefined;
}

/**
 * Azure Key Vault as the reference uses it: every enabled secret is a setting, named by its path joined with `--`
 * (Key Vault names allow only letters, digits and `-`). Listed, then read one by one; one read per start (and
 * per re-read after an authentication failure).
 */
export function keyVaultSource(options: KeyVaultSourceOptions): SettingsSource {
  const name = `Azure Key Vault ${options.vault}`;
  return {
    name,
    async read() {
      const client = new SecretClient(options.vault, options.credential ?? new DefaultAzureCredential(), {
        retryOptions: { maxRetries: 2 },
        ...options.clientOptions,
      });
      const problems: string[] = [];
      const names: string[] = [];
      try {
        for await (const properties of client.listPropertiesOfSecrets(perRequest)) {
          if (names.length >= MAX_SECRETS) {
            problems.push(
              `the vault holds more than ${MAX_SECRETS} secrets; use a vault for the connector's settings`,
            );
            break;
          }
          if (properties.enabled !== false) names.push(properties.name);
        }
      } catch (error) {
        throw new CredentialStoreError(name, [`the secrets cannot be listed: ${failure(error)}`]);
      }
      const values: SettingValue[] = [];
      for (const secretName of names) {
        const path = settingPathOfSecret(secretName);
        if (path === undefined) {
          problems.push(`secret ${secretName}: a name with an empty part ("----") names no setting`);
          continue;
        }
        try {
          const secret = await client.getSecret(secretName, perRequest);
          if (secret.value === undefined) throw new Error('the vault returned no value');
          values.push({ path, value: secret.value, origin: `${name} (secret ${secretName})` });
        } catch (error) {
          problems.push(`${path.join('.')} (secret ${secretName}): cannot be read: ${failure(error)}`);
        }
      }
      if (problems.length > 0) throw new CredentialStoreError(name, problems);
      return { source: name, secret: true, values };
    },
  };
}

/**
 * What went wrong, from the status or error code. The vault's and the identity chain's own messages can be long
 * and name tenants or endpoints; they are cut, and they never hold secret values (we have sent none).
 */
function failure(error: unknown): string {
  if (isRestError(error)) {
    if (error.statusCode === 401 || error.statusCode === 403) {
      return `the vault refused access (HTTP ${error.statusCode}); the identity needs the "get" and "list" secret permissions`;
    }
    if (error.statusCode === 404) return 'the secret does not exist (HTTP 404)';
    if (error.statusCode !== undefined) return `the vault answered HTTP ${error.statusCode}`;
    return `the vault cannot be reached (${error.code ?? 'network error'})`;
  }
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (
      error.name === 'CredentialUnavailableError' ||
      error.name === 'AuthenticationError' ||
      error.name === 'AggregateAuthenticationError'
    ) {
      return `no Azure credential is usable (${error.name}): ${clip(error.message.replace(/\s+/g, ' '), 300)}`;
    }
    return code === undefined
      ? clip(error.message.replace(/\s+/g, ' '), 300)
      : `${error.message.split('\n')[0] ?? ''} (${code})`;
  }
  return 'unknown failure';
}
