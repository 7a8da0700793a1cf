import {
  connectTemporal,
  temporalProblem,
  TemporalUnreachableError,
  type TemporalSession,
} from '../client/session';
import { NotAnOrderError } from '../client/orderStatus';
import type { SettingsFile } from '../config/schema';
import { resolveTemporalTarget, type TemporalTarget } from '../config/temporalConnection';
import { CliError } from './errors';

/**
 * A Temporal session for one CLI command, connected the way the worker connects (see resolveTemporalTarget);
 * connection failures and the errors any command may meet become CliErrors.
 */
export async function openTemporal(
  settings: SettingsFile,
  options: { lazy?: boolean } = {},
): Promise<TemporalSession> {
  try {
    return await connectTemporal(resolveTemporalTarget(settings), options);
  } catch (error) {
    if (error instanceof TemporalUnreachableError) throw new CliError(error.message);
    throw error;
  }
}

/** Runs `action` with a session that is closed afterwards, whatever happens; Temporal errors become CliErrors. */
export async function withTemporal<T>(
  settings: SettingsFile,
  action: (session: TemporalSession) => Promise<T>,
  options: { lazy?: boolean } = {},
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
  const problem = temporalProblem(error, target);
  return problem === undefined ? error : new CliError(problem);
}
