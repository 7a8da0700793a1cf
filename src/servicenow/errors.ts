import { clip, clipOptional, MAX_FIELD_LENGTH, MAX_MESSAGE_LENGTH } from '../contract/limits';

/**
 * The one error type the ServiceNow client throws. It carries what an operator needs (status, ServiceNow's own
 * message and detail, table, operation, ticket) and never credentials: it is built from scratch rather than
 * wrapping the HTTP library's error, whose request config holds the Authorization header and the request body.
 */

export type ServiceNowErrorKind =
  /** The instance answered with an HTTP error status. */
  | 'http'
  /** No answer: connection refused, reset or dropped, DNS failure. */
  | 'network'
  | 'timeout'
  /** A success status without JSON, typically the HTML page of a hibernating instance. */
  | 'not-json'
  /** JSON, but not the envelope or fields the Table API documents. */
  | 'invalid-response'
  | 'response-too-large'
  /**
   * The credentials were refused: by the OAuth token endpoint (400, 401, 403), or by the API itself (401: a wrong
   * Basic password, a token refused again after renewal). Not retryable as such, but fixed by an operator, so
   * activities keep retrying it (src/activities/failures.ts).
   */
  | 'auth'
  /** Rows came back that do not match the key searched for (a dropped query term, a mis-configured field). */
  | 'mismatch'
  /** The request was refused before it was sent (bad URL, bad argument). */
  | 'invalid-request'
  | 'canceled';

export type ServiceNowOperation =
  'read' | 'list' | 'create' | 'update' | 'delete' | 'order' | 'token' | 'find' | 'set-password';

type DetailKey =
  'kind' | 'operation' | 'table' | 'record' | 'status' | 'serviceNowMessage' | 'detail' | 'retryAfterMs';

export type ServiceNowErrorDetails = Pick<ServiceNowError, DetailKey> & {
  /** Our own explanation when ServiceNow gave none. */
  readonly reason?: string;
};

const RETRYABLE_STATUS = new Set([408, 429]);
const RETRYABLE_KINDS: ReadonlySet<ServiceNowErrorKind> = new Set(['network', 'timeout', 'not-json']);

export class ServiceNowError extends Error {
  readonly kind: ServiceNowErrorKind;
  readonly operation: ServiceNowOperation;
  readonly table?: string;
  /** Number or sys_id of the record concerned, when there is one. */
  readonly record?: string;
  readonly status?: number;
  /** `error.message` from ServiceNow's error envelope. */
  readonly serviceNowMessage?: string;
  /** `error.detail` from ServiceNow's error envelope. */
  readonly detail?: string;
  readonly retryAfterMs?: number;
  /** Network errors, timeouts, 408, 429, 5xx and an instance answering HTML (asleep or in maintenance). */
  readonly retryable: boolean;

  constructor(given: ServiceNowErrorDetails) {
    // ServiceNow's own words are capped: they end up in failures, workflow state and logs.
    const details: ServiceNowErrorDetails = {
      ...given,
      serviceNowMessage: clipOptional(given.serviceNowMessage, MAX_MESSAGE_LENGTH),
      detail: clipOptional(given.detail, MAX_MESSAGE_LENGTH),
      // A ticket number read from an answer is the instance's word too.
      record: clipOptional(given.record, MAX_FIELD_LENGTH),
    };
    super(describe(details));
    this.name = 'ServiceNowError';
    this.kind = details.kind;
    this.operation = details.operation;
    this.table = details.table;
    this.record = details.record;
    this.status = details.status;
    this.serviceNowMessage = details.serviceNowMessage;
    this.detail = details.detail;
    this.retryAfterMs = details.retryAfterMs;
    this.retryable =
      RETRYABLE_KINDS.has(details.kind) ||
      (details.status !== undefined && (RETRYABLE_STATUS.has(details.status) || details.status >= 500));
  }

  /** For structured logs: `message` is not an own enumerable property of an Error. */
  toJSON(): Omit<ServiceNowErrorDetails, 'reason'> & {
    readonly name: string;
    readonly message: string;
    readonly retryable: boolean;
  } {
    return { ...this, message: this.message };
  }
}

/** What ServiceNow said always keeps at least this much room, however long our own words are. */
const MIN_SAID_LENGTH = 200;

/** At most MAX_MESSAGE_LENGTH: what ServiceNow said gets what room our own words leave. */
function describe(d: ServiceNowErrorDetails): string {
  const target = [d.table, d.record].filter((part) => part !== undefined).join(' ');
  const what = `ServiceNow ${d.operation}${target === '' ? '' : ` on ${target}`} failed`;
  const status = d.status === undefined ? '' : ` with HTTP ${d.status}`;
  const retry = d.retryAfterMs === undefined ? '' : ` (retry after ${Math.ceil(d.retryAfterMs / 1000)} s)`;
  const reason = d.reason ?? '';
  const ours = `${what}${status}: ; ${reason}${retry}`.length;
  const said = clip(
    [d.serviceNowMessage, d.detail].filter((part) => part !== undefined && part !== '').join(': '),
    Math.max(MIN_SAID_LENGTH, MAX_MESSAGE_LENGTH - ours),
  );
  const why = [said, reason].filter((part) => part !== '').join('; ');
  return clip(`${what}${status}${why === '' ? '' : `: ${why}`}${retry}`, MAX_MESSAGE_LENGTH);
}
