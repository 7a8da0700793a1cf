import { ApplicationFailure } from '@temporalio/activity';
import { clip, MAX_MESSAGE_LENGTH } from '../contract/limits';
import { ServiceNowError, type ServiceNowErrorKind } from '../servicenow/errors';
import { UnknownConnectionError } from '../servicenow/connection';

/**
 * Errors leave activities as Temporal failures an operator can act on: typed, with ServiceNow's own message,
 * whether a retry can help and when, and never a credential (ServiceNowError messages are built redacted; raw
 * library errors, which carry request headers, are never passed through).
 */
export function toActivityFailure(error: unknown): ApplicationFailure {
  if (error instanceof ApplicationFailure) return error;
  if (error instanceof ServiceNowError) {
    return ApplicationFailure.create({
      type: `ServiceNow.${error.kind}`,
      message: error.message,
      nonRetryable: !error.retryable && !OUTLIVED_KINDS.has(error.kind),
      nextRetryDelay: error.retryAfterMs,
      details: [
        {
          status: error.status,
          serviceNowMessage: error.serviceNowMessage,
          detail: error.detail,
          table: error.table,
          record: error.record,
        },
      ],
    });
  }
  if (error instanceof UnknownConnectionError) {
    return ApplicationFailure.create({
      type: 'UnknownConnection',
      message: error.message,
      nonRetryable: true,
    });
  }
  if (isClassifiedError(error)) {
    return ApplicationFailure.create({
      type: error.name,
      message: clip(error.message, MAX_MESSAGE_LENGTH),
      // Rejected credentials are fixed by an operator, and the order must survive until then.
      nonRetryable: !error.retryable && error.kind !== 'auth',
      nextRetryDelay: error.retryAfterMs,
      details: error.status === undefined ? undefined : [{ status: error.status }],
    });
  }
  if (error instanceof Error && NON_RETRYABLE_NAMES.has(error.name)) {
    return ApplicationFailure.create({
      type: error.name,
      message: clip(error.message, MAX_MESSAGE_LENGTH),
      nonRetryable: true,
    });
  }
  // Unknown errors keep only their message, capped: a library error object may hold headers or bodies.
  const message = error instanceof Error ? error.message : String(error);
  return ApplicationFailure.create({ type: 'UnexpectedError', message: clip(message, MAX_MESSAGE_LENGTH) });
}

/**
 * ServiceNow failures that are not retryable as requests but must not fail the order: a rejected login is fixed
 * by an operator, and the order must survive until then; a request canceled because the worker shut down must
 * run again on another worker (a cancel the workflow asked for ends the activity whatever the failure says).
 */
const OUTLIVED_KINDS: ReadonlySet<ServiceNowErrorKind> = new Set(['auth', 'canceled']);

/** Configuration and content errors that no retry can fix. */
const NON_RETRYABLE_NAMES = new Set([
  'TicketTemplateError',
  'MissingMappingError',
  'MappingConnectionError',
  'CallerNotFoundError',
  'InvalidOrderError',
  'TicketMismatchError',
]);

/** Errors of the other adapters (Identity Manager, ledger) that say whether a retry can help. */
interface ClassifiedError extends Error {
  readonly retryable: boolean;
  readonly kind?: string;
  readonly status?: number;
  readonly retryAfterMs?: number;
}

function isClassifiedError(error: unknown): error is ClassifiedError {
  return error instanceof Error && typeof (error as Partial<ClassifiedError>).retryable === 'boolean';
}

/** Runs an activity body and converts whatever it throws. */
export async function asActivity<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    throw toActivityFailure(error);
  }
}

/**
 * For steps that must happen whatever the peer answers (recording an assignment): every failure is retryable,
 * so that a refusal leaves the order waiting, retrying and visible in the Web UI until an operator fixes the
 * peer, rather than failing it with Identity Manager never told.
 */
export async function asMustHappenActivity<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    const failure = toActivityFailure(error);
    if (!failure.nonRetryable) throw failure;
    throw ApplicationFailure.create({
      type: failure.type ?? undefined,
      message: failure.message,
      details: failure.details ?? undefined,
      nextRetryDelay: failure.nextRetryDelay ?? undefined,
    });
  }
}
