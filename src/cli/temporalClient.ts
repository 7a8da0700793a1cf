import {
  connectTemporal,
  temporalProblem,
  TemporalUnreachableError,
  type TemporalSession,
} from '../client/session';
import { NotAnOrderError } from '../client/orderStatus';
import type { EncryptionSettings, SettingsFile } from '../config/schema';
import { resolveTemporalTarget, type TemporalTarget } from '../config/temporalConnection';
import { EncryptionUnavailableError } from '../codec/dataConverters';
import { payloadKeyErrorIn } from '../codec/keyErrors';
import { ordersDataConverter, passwordsDataConverter } from '../platform/encryption';
import { withLocalStackKey } from '../stack/localEncryption';
import { CliError } from './errors';

export interface CliSessionOptions {
  readonly lazy?: boolean;
  /** Seal every payload with the active key (password resets); otherwise the orders' rule applies. */
  readonly passwords?: boolean;
}

/**
 * The payload keys a command uses: the settings', else (without keys of its own) those of the local stack
 * (`npm start`) kept in its data folder, so that commands read and write what its worker does.
 */
export function cliEncryption(settings: SettingsFile): EncryptionSettings {
  return withLocalStackKey(settings).TicketConnector.Encryption;
}

/**
 * A Temporal session for one CLI command, connected the way the worker connects (see resolveTemporalTarget) and
 * with the worker's payload codec; connection failures and the errors any command may meet become CliErrors.
 */
export async function openTemporal(
  settings: SettingsFile,
  options: CliSessionOptions = {},
): Promise<TemporalSession> {
  try {
    const encryption = cliEncryption(settings);
    const dataConverter = options.passwords
      ? passwordsDataConverter(encryption)
      : ordersDataConverter(encryption);
    return await connectTemporal(resolveTemporalTarget(settings), { lazy: options.lazy, dataConverter });
  } catch (error) {
    if (error instanceof TemporalUnreachableError) throw new CliError(error.message);
    if (error instanceof EncryptionUnavailableError) throw new CliError(error.message, 2);
    throw error;
  }
}

/** Runs `action` with a session that is closed afterwards, whatever happens; Temporal errors become CliErrors. */
export async function withTemporal<T>(
  settings: SettingsFile,
  action: (session: TemporalSession) => Promise<T>,
  options: CliSessionOptions = {},
): Promise<T> {
  const session = await openTemporal(settings, options);
  try {
    return await action(session);
  } catch (error) {
    throw cliErrorOf(error, session.target);
  } finally {
    await session.close();
  }
}

/** Operator-ready messages for the errors any command may meet; other errors are left as they are. */
export function cliErrorOf(error: unknown, target: TemporalTarget): unknown {
  if (error instanceof CliError) return error;
  if (error instanceof NotAnOrderError) return new CliError(error.message, 2);
  // An encrypted payload this command has no key for: the setting to fix, not a stack trace.
  const keyError = payloadKeyErrorIn(error);
  if (keyError !== undefined) return new CliError(keyError.message, 2);
  const problem = temporalProblem(error, target);
  return problem === undefined ? error : new CliError(problem);
}
