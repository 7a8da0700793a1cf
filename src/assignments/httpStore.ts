import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { MAX_FIELD_LENGTH } from '../contract/limits';
import type { OrderKey } from '../contract/order';
import { PROVISIONING_STATE_CODES } from '../contract/states';
import { peerText } from '../http/peerText';
import { SecretRedactor } from '../http/redaction';
import { parseRetryAfter } from '../http/retryAfter';
import { isFinalState, type AssignmentStore, type AssignmentTransition, type RecordResult } from './store';
import { FinalOrders } from './finalOrders';
import { answerJson } from '../http/exchange';
import { checkEndpointUrl, HttpExchange, type HttpAnswer } from './httpExchange';
import { createAuthorizer, type Authorizer, type IdentityManagerAuth } from './identityManagerAuth';
import { IdentityManagerError } from './identityManagerError';
import { checkTransition } from './transitionSchema';
import { readAcknowledgement } from './acknowledgement';
import { UrlTemplate } from './urlTemplate';

export type { IdentityManagerAuth } from './identityManagerAuth';

export interface HttpAssignmentStoreOptions {
  /** With `{assignmentId}`, `{orderId}`, `{connection}` and `{state}` placeholders. */
  readonly urlTemplate: string;
  readonly method?: 'POST' | 'PUT' | 'PATCH';
  readonly auth?: IdentityManagerAuth;
  /**
   * Reads the credentials again from where they came from (the credential stores) after Identity Manager or its
   * token endpoint refused them; undefined when nothing new could be read. Asked at most once per refusal.
   */
  readonly rereadAuth?: () => Promise<IdentityManagerAuth | undefined>;
  /** For each HTTP exchange (token request or transition), start to end. Default 30 s. */
  readonly timeoutMs?: number;
  /** Tries per transition for network errors, 408, 429 and 5xx, the first included. Default 3. */
  readonly maxAttempts?: number;
  /** Wait before the second try, doubled before each next one. Default 500 ms. */
  readonly retryDelayMs?: number;
  /**
   * The longest wait between tries, `Retry-After` included. When Identity Manager asks for longer, the error
   * is thrown at once for the activity's own retry policy to honour. Default 5 s.
   */
  readonly maxRetryDelayMs?: number;
  /**
   * How many orders with a delivered final state this process remembers, so that a later Transmitted for one of
   * them is not sent (see {@link FinalOrders}). Default 20,000.
   */
  readonly rememberedFinalOrders?: number;
  readonly now?: () => Date;
}

/** The body Identity Manager receives for each transition. */
export interface TransitionMessage extends OrderKey {
  readonly provisioningState: AssignmentTransition['state'];
  readonly provisioningStateCode: number;
  /**
   * True for Executed, Verified and Errored. Orders the transitions of one order without comparing clocks: one
   * with `isFinal: false` never replaces one with `isFinal: true`. Two finals (an operator forcing a result)
   * are sent in the order they happened, and the later `at` is the newer.
   */
  readonly isFinal: boolean;
  readonly ticket: AssignmentTransition['ticket'] | null;
  readonly detail: AssignmentTransition['detail'] | null;
  readonly at: string;
}

/** Error documents come in many shapes (problem details, OAuth style, ad hoc): each field is read on its own. */
const optionalText = z.string().optional().catch(undefined);
const errorDocument = z.object({
  message: optionalText,
  error_description: optionalText,
  title: optionalText,
  detail: optionalText,
  error: optionalText,
});

const MAX_SERVER_MESSAGE = 300;

/**
 * Sends each transition to Identity Manager's API. Safe to repeat: the `Idempotency-Key` header
 * (`<orderId, URL-encoded>:<state>`) lets Identity Manager recognise a retried call. Only the answers documented
 * in `acknowledgement.ts` count as recorded (a 409 only when its body says the transition is already there).
 * Retries are short (a few seconds); Temporal's activity retries take over after that.
 *
 * Never backwards: once a final state of an order was delivered through this store, a later Transmitted for it
 * answers `applied: false` without being sent. That memory is per process and bounded ({@link FinalOrders});
 * Identity Manager must also ignore a Transmitted that follows a final state (`isFinal`, `at`).
 */
class HttpAssignmentStore implements AssignmentStore {
  private readonly template: UrlTemplate;
  private readonly method: 'POST' | 'PUT' | 'PATCH';
  private readonly exchange: HttpExchange;
  private readonly redactor = new SecretRedactor();
  private auth: IdentityManagerAuth;
  private authorizer: Authorizer;
  private readonly rereadAuth: (() => Promise<IdentityManagerAuth | undefined>) | undefined;
  private readonly maxAttempts: number;
  private readonly retryDelayMs: number;
  private readonly maxRetryDelayMs: number;
  private readonly now: () => Date;
  private readonly finalOrders: FinalOrders;
  private closed = false;

  constructor(options: HttpAssignmentStoreOptions) {
    this.template = UrlTemplate.parse(options.urlTemplate);
    const auth = options.auth ?? { kind: 'none' };
    if (auth.kind === 'oauth') checkEndpointUrl(auth.tokenUrl, 'OAuth2Url');
    this.auth = auth;
    this.rereadAuth = options.rereadAuth;
    this.method = options.method ?? 'POST';
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 3);
    this.retryDelayMs = options.retryDelayMs ?? 500;
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 5_000;
    this.now = options.now ?? (() => new Date());
    this.finalOrders = new FinalOrders(Math.max(1, options.rememberedFinalOrders ?? 20_000));
    this.exchange = new HttpExchange(options.timeoutMs ?? 30_000);
    this.authorizer = createAuthorizer(auth, this.exchange, this.redactor, this.now);
  }

  async record(input: AssignmentTransition): Promise<RecordResult> {
    if (this.closed) throw invalid('the store is closed');
    const checked = checkTransition(input);
    if (!checked.ok) throw invalid(`the transition is not valid: ${checked.problems.join('; ')}`);
    const transition = checked.transition;
    const { orderId, assignmentId, connection, state } = transition;
    const final = isFinalState(state);
    if (!final && this.finalOrders.has(orderId)) return { applied: false };
    const url = this.template.render({ orderId, assignmentId, connection, state });
    const body = JSON.stringify(toMessage(transition));
    const what = `${state} of assignment ${assignmentId} (order ${orderId})`;
    // Encoded because header values must be Latin-1: an order id in another script would never be sendable.
    const key = `${encodeURIComponent(orderId)}:${state}`;
    for (let attempt = 1; ; attempt += 1) {
      try {
        const result = await this.send(url, body, key, what);
        // Applied now or before (409): either way Identity Manager holds this final state.
        if (final) this.finalOrders.add(orderId);
        return result;
      } catch (error) {
        const delayMs = this.retryDelay(error, attempt);
        if (delayMs === undefined) throw error;
        await sleep(delayMs);
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.exchange.close();
  }

  private async send(url: string, body: string, key: string, what: string): Promise<RecordResult> {
    let authorization: string | undefined;
    try {
      authorization = await this.authorizer.authorization();
    } catch (error) {
      // The token endpoint refused the client secret: it may have been rotated in the store.
      if (!(isAuthRefusal(error) && (await this.credentialsChanged()))) throw error;
      authorization = await this.authorizer.authorization();
    }
    const call = (header: string | undefined) =>
      this.exchange.send({
        method: this.method,
        url,
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/json',
          'Idempotency-Key': key,
          ...(header !== undefined && { Authorization: header }),
        },
        body,
        what,
      });
    let answer = await call(authorization);
    if (answer.status === 401 && this.authorizer.rejected(authorization)) {
      authorization = await this.authorizer.authorization();
      answer = await call(authorization);
    }
    if (answer.status === 401 && (await this.credentialsChanged())) {
      authorization = await this.authorizer.authorization();
      answer = await call(authorization);
    }
    const acknowledgement = readAcknowledgement(answer);
    if (acknowledgement.kind === 'recorded') return acknowledgement.result;
    throw acknowledgement.kind === 'unproven'
      ? this.unproven(answer, what, acknowledgement.expected)
      : this.refusal(answer, what);
  }

  /** Reads the credentials again; true when they changed (the authorizer then uses the new ones). */
  private async credentialsChanged(): Promise<boolean> {
    const fresh = await this.rereadAuth?.();
    if (fresh === undefined || sameAuth(fresh, this.auth)) return false;
    if (fresh.kind === 'oauth') checkEndpointUrl(fresh.tokenUrl, 'OAuth2Url');
    this.auth = fresh;
    this.authorizer = createAuthorizer(fresh, this.exchange, this.redactor, this.now);
    return true;
  }

  /** A success or conflict status whose body does not prove that Identity Manager holds the transition. */
  private unproven(answer: HttpAnswer, what: string, expected: string): IdentityManagerError {
    const type =
      peerText(answer.headers['content-type'], this.redactor, MAX_FIELD_LENGTH) ?? 'no content type';
    const said = this.serverMessage(answer) ?? peerText(answer.text, this.redactor, MAX_SERVER_MESSAGE);
    return new IdentityManagerError({
      kind: 'unrecognised-answer',
      status: answer.status,
      message: `Identity Manager ${what}: HTTP ${answer.status} with ${type} instead of the documented ${expected}; not counted as recorded${said === undefined ? '' : `: ${said}`}`,
    });
  }

  /** Undefined: give up. Timeouts are not retried here: each already took the full timeout. */
  private retryDelay(error: unknown, attempt: number): number | undefined {
    const retryable = error instanceof IdentityManagerError && error.retryable && error.kind !== 'timeout';
    if (!retryable || attempt >= this.maxAttempts) return undefined;
    const delayMs = error.retryAfterMs ?? this.retryDelayMs * 2 ** (attempt - 1);
    if (error.retryAfterMs !== undefined && delayMs > this.maxRetryDelayMs) return undefined;
    return Math.min(delayMs, this.maxRetryDelayMs);
  }

  private refusal(answer: HttpAnswer, what: string): IdentityManagerError {
    const said = this.serverMessage(answer);
    const suffix = said === undefined ? '' : `: ${said}`;
    if (answer.status === 401 || answer.status === 403) {
      return new IdentityManagerError({
        kind: 'auth',
        status: answer.status,
        message: `Identity Manager ${what}: the credentials were refused (HTTP ${answer.status})${suffix}`,
      });
    }
    const redirect =
      answer.status >= 300 && answer.status < 400 ? ' (redirects are not followed: check UrlTemplate)' : '';
    return new IdentityManagerError({
      kind: 'http',
      status: answer.status,
      retryAfterMs: parseRetryAfter(answer.headers['retry-after'], this.now()),
      message: `Identity Manager ${what}: HTTP ${answer.status}${redirect}${suffix}`,
    });
  }

  /** Identity Manager's explanation, if it sent one, with every known secret replaced and cut short. */
  private serverMessage(answer: HttpAnswer): string | undefined {
    const parsed = errorDocument.safeParse(answerJson(answer));
    if (!parsed.success) return undefined;
    const { message, error_description, title, detail, error } = parsed.data;
    const said = [message ?? error_description ?? title ?? error, detail].filter(
      (part) => part !== undefined,
    );
    return said.length === 0 ? undefined : peerText(said.join(' - '), this.redactor, MAX_SERVER_MESSAGE);
  }
}

function invalid(reason: string): IdentityManagerError {
  return new IdentityManagerError({ kind: 'invalid-request', message: `Identity Manager: ${reason}` });
}

export function toMessage(transition: AssignmentTransition): TransitionMessage {
  return {
    orderId: transition.orderId,
    assignmentId: transition.assignmentId,
    connection: transition.connection,
    resourceType: transition.resourceType,
    changeType: transition.changeType,
    provisioningState: transition.state,
    provisioningStateCode: PROVISIONING_STATE_CODES[transition.state],
    isFinal: isFinalState(transition.state),
    ticket: transition.ticket ?? null,
    detail: transition.detail ?? null,
    at: transition.at,
  };
}

function isAuthRefusal(error: unknown): boolean {
  return error instanceof IdentityManagerError && error.kind === 'auth';
}

function sameAuth(a: IdentityManagerAuth, b: IdentityManagerAuth): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Checks the template, token URL and auth now, so a bad setting stops the worker at start. */
export function createHttpAssignmentStore(options: HttpAssignmentStoreOptions): AssignmentStore {
  return new HttpAssignmentStore(options);
}
