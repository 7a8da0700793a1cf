import {
  Client,
  Connection,
  NamespaceNotFoundError,
  ServiceError,
  WorkflowNotFoundError,
} from '@temporalio/client';
import type { SettingsFile } from '../config/schema';
import { resolveTemporalTarget, type TemporalTarget } from '../config/temporalConnection';
import { CliError } from './errors';

/** A Temporal client for one CLI command, connected the way the worker connects (see resolveTemporalTarget). */
export interface TemporalSession {
  readonly client: Client;
  readonly connection: Connection;
  readonly target: TemporalTarget;
  close(): Promise<void>;
}

function where(target: TemporalTarget): string {
  return `Temporal at ${target.address} (namespace ${target.namespace})`;
}

/**
 * Connects, checking that the server answers (`lazy`: no check, calls connect and reconnect as needed, for
 * long-running commands that must survive a server restart).
 */
export async function connectTemporal(
  settings: SettingsFile,
  options: { lazy?: boolean } = {},
): Promise<TemporalSession> {
  const target = resolveTemporalTarget(settings);
  let connection: Connection;
  try {
    connection = options.lazy
      ? Connection.lazy(target.connectionOptions)
      : await Connection.connect(target.connectionOptions);
  } catch (error) {
    throw new CliError(`Cannot connect to ${where(target)}: ${messageOf(error)}`);
  }
  const client = new Client({ connection, namespace: target.namespace });
  return { client, connection, target, close: () => connection.close() };
}

/** Runs `action` with a session that is closed afterwards, whatever happens; Temporal errors become CliErrors. */
export async function withTemporal<T>(
  settings: SettingsFile,
  action: (session: TemporalSession) => Promise<T>,
  options: { lazy?: boolean } = {},
): Promise<T> {
  const session = await connectTemporal(settings, options);
  try {
    return await action(session);
  } catch (error) {
    throw cliErrorOf(error, session.target);
  } finally {
    await session.close();
  }
}

export function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // gRPC errors read "14 UNAVAILABLE: No connection established..."; the cause often says more.
  const cause =
    error.cause instanceof Error && error.cause.message !== error.message ? error.cause.message : '';
  return cause === '' ? error.message : `${error.message} (${cause})`;
}

/** Operator-ready messages for the errors any command may meet; other errors are left as they are. */
export function cliErrorOf(error: unknown, target: TemporalTarget): unknown {
  if (error instanceof CliError) return error;
  if (error instanceof WorkflowNotFoundError) {
    return new CliError(`No workflow ${error.workflowId} in namespace ${target.namespace}`);
  }
  if (error instanceof NamespaceNotFoundError) {
    return new CliError(`${where(target)}: the namespace does not exist`);
  }
  if (error instanceof ServiceError) return new CliError(`${where(target)}: ${messageOf(error)}`);
  return error;
}
