import {
  Client,
  Connection,
  NamespaceNotFoundError,
  ServiceError,
  WorkflowNotFoundError,
} from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import type { TemporalTarget } from '../config/temporalConnection';

export type { Client };

/** A Temporal client with its connection, for one command, page request or batch of any client of the connector. */
export interface TemporalSession {
  readonly client: Client;
  readonly target: TemporalTarget;
  close(): Promise<void>;
}

/** `Temporal at localhost:7233 (namespace default)`. */
export function temporalWhere(target: TemporalTarget): string {
  return `Temporal at ${target.address} (namespace ${target.namespace})`;
}

/** The server could not be reached when connecting; the message names where and why. */
export class TemporalUnreachableError extends Error {
  constructor(target: TemporalTarget, cause: unknown) {
    super(`Cannot connect to ${temporalWhere(target)}: ${messageOf(cause)}`, { cause });
    this.name = 'TemporalUnreachableError';
  }
}

export interface SessionOptions {
  /** No check: calls connect and reconnect as needed, for long-running callers that must survive a restart. */
  readonly lazy?: boolean;
  /** How payloads are encoded and decoded: the connector's codec (src/platform/encryption.ts). */
  readonly dataConverter?: DataConverter;
}

/** Connects, checking that the server answers unless `lazy`. */
export async function connectTemporal(
  target: TemporalTarget,
  options: SessionOptions = {},
): Promise<TemporalSession> {
  let connection: Connection;
  try {
    connection = options.lazy
      ? Connection.lazy(target.connectionOptions)
      : await Connection.connect(target.connectionOptions);
  } catch (error) {
    throw new TemporalUnreachableError(target, error);
  }
  const client = new Client({
    connection,
    namespace: target.namespace,
    ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
  });
  return { client, target, close: () => connection.close() };
}

/** An error's message, with its cause's when that says more (gRPC errors read "14 UNAVAILABLE: ..."). */
export function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause =
    error.cause instanceof Error && error.cause.message !== error.message ? error.cause.message : '';
  return cause === '' ? error.message : `${error.message} (${cause})`;
}

/**
 * What an operator needs to know of the errors any call may meet (no such workflow, no such namespace, the
 * server refused or did not answer); undefined for other errors, which the caller explains itself.
 */
export function temporalProblem(error: unknown, target: TemporalTarget): string | undefined {
  if (error instanceof WorkflowNotFoundError) {
    return `No workflow ${error.workflowId} in namespace ${target.namespace}`;
  }
  if (error instanceof NamespaceNotFoundError)
    return `${temporalWhere(target)}: the namespace does not exist`;
  if (error instanceof ServiceError) return `${temporalWhere(target)}: ${messageOf(error)}`;
  return undefined;
}

export function isWorkflowNotFound(error: unknown): boolean {
  return error instanceof WorkflowNotFoundError;
}
