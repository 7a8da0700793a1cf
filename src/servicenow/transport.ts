import { z } from 'zod';
import { clip, MAX_FIELD_LENGTH } from '../contract/limits';
import { Exchange, ExchangeError, type ExchangeFailure } from '../http/exchange';
import { peerText } from '../http/peerText';
import type { SecretRedactor } from '../http/redaction';
import { parseRetryAfter } from '../http/retryAfter';
import { noMetrics, type ConnectorMetrics } from '../platform/metrics';
import { requireSecureEndpoint } from '../http/secureEndpoint';
import { RateLimitedError, type CallBudget, type CallPriority } from './budget';
import { describeRateLimit, rateLimitOf } from './budgetRateLimit';
import { ServiceNowError, type ServiceNowOperation } from './errors';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpCall {
  readonly method: HttpMethod;
  readonly url: string;
  readonly params?: Readonly<Record<string, string>>;
  /** Sent as JSON. */
  readonly body?: unknown;
  /** Sent form-encoded (the OAuth token endpoint accepts nothing else). */
  readonly form?: Readonly<Record<string, string>>;
  readonly authorization?: string;
  readonly operation: ServiceNowOperation;
  readonly table?: string;
  readonly record?: string;
  readonly signal?: AbortSignal;
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** Parsed JSON body; undefined for an empty body. */
  readonly json: unknown;
}

export interface TransportOptions {
  /** For the whole exchange, not only while the connection is silent. */
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  readonly redactor: SecretRedactor;
  readonly now: () => Date;
  /** The connection's budget in this worker: every call waits for its token and for any 429 pause. */
  readonly budget: CallBudget;
  readonly metrics?: ConnectorMetrics;
}

/** What a transport's calls ask of the budget; views of one transport differ only in this. */
export interface CallPolicy {
  readonly priority: CallPriority;
  /**
   * Whether a 429 is waited out and the call sent again (a few times, while the pause is short); otherwise the
   * 429 comes back at once, for callers that wait it out themselves.
   */
  readonly waitOutRateLimits: boolean;
}

/** A call refused with 429 this many times in a row comes back to its caller as the 429 it got. */
export const MAX_RATE_LIMITED_SENDS = 5;

/** ServiceNow caps request bodies at 10 MB; refusing bigger ones locally gives a clearer error. */
const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

/** Refuses, before anything is sent, a URL that would carry credentials in clear text (src/http/secureEndpoint). */
export function checkTransportUrl(url: string, operation: ServiceNowOperation): URL {
  return requireSecureEndpoint(
    url,
    (problem) =>
      new ServiceNowError({
        kind: 'invalid-request',
        operation,
        reason:
          problem.kind === 'not-a-url'
            ? 'the URL is not valid'
            : `refusing to send credentials to ${problem.origin}: use https (plain http only to loopback) and no credentials in the URL`,
      }),
  );
}

const errorEnvelope = z.object({
  error: z.object({ message: z.string().optional(), detail: z.string().nullish() }),
});

/**
 * One HTTP exchange with timeouts, a response size cap, no redirects and a JSON content-type check. Any HTTP
 * status is returned to the caller, which knows what it means; only failures to get a usable answer throw.
 * Every call first waits for the connection's budget (src/servicenow/budget.ts); a 429 pauses the connection.
 */
export class HttpTransport {
  private readonly exchange: Exchange;
  private readonly metrics: ConnectorMetrics;

  constructor(
    private readonly options: TransportOptions,
    private readonly policy: CallPolicy = { priority: 'normal', waitOutRateLimits: true },
    exchange?: Exchange,
  ) {
    this.metrics = options.metrics ?? noMetrics;
    this.exchange =
      exchange ??
      new Exchange({
        timeoutMs: options.timeoutMs,
        maxResponseBytes: options.maxResponseBytes,
        maxRequestBytes: MAX_REQUEST_BYTES,
      });
  }

  /** The same transport (connection, budget) sending calls under another policy. */
  withPolicy(policy: CallPolicy): HttpTransport {
    return new HttpTransport(this.options, policy, this.exchange);
  }

  async send(call: HttpCall): Promise<HttpAnswer> {
    checkTransportUrl(call.url, call.operation);
    const { budget } = this.options;
    for (let sends = 1; ; sends++) {
      await this.admit(call);
      const answer = await this.sendOnce(call);
      if (answer.status !== 429) {
        budget.answered();
        return answer;
      }
      const pause = budget.rateLimited(rateLimitOf(answer.headers, this.options.now()));
      // Beyond that, Temporal's retry (after the delay the error carries) is the better place to wait.
      if (!this.policy.waitOutRateLimits || sends >= MAX_RATE_LIMITED_SENDS || !budget.mayWait(pause)) {
        return answer;
      }
    }
  }

  /** Waits for the call's token; a pause too long to wait out is the 429 that caused it, with its delay. */
  private async admit(call: HttpCall): Promise<void> {
    const base = { operation: call.operation, table: call.table, record: call.record };
    try {
      await this.options.budget.acquire(
        this.policy.priority,
        call.signal,
        () => new ServiceNowError({ ...base, kind: 'canceled', reason: 'the request was canceled' }),
      );
    } catch (error) {
      if (!(error instanceof RateLimitedError)) throw error;
      throw new ServiceNowError({
        ...base,
        kind: 'http',
        status: 429,
        retryAfterMs: error.retryAfterMs,
        reason: `not sent: ${describeRateLimit(error.pause)}`,
      });
    }
  }

  private async sendOnce(call: HttpCall): Promise<HttpAnswer> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (call.authorization !== undefined) headers.Authorization = call.authorization;
    let body: string | undefined;
    if (call.form !== undefined) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(call.form).toString();
    } else if (call.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(call.body);
    }
    const target = call.table ?? call.operation;
    let answer;
    try {
      answer = await this.exchange.send({
        method: call.method,
        url: call.url,
        params: call.params,
        headers,
        body,
        signal: call.signal,
      });
    } catch (error) {
      this.metrics.serviceNowCall(this.options.budget.connection, target, 0);
      throw error instanceof ExchangeError ? this.transportError(error.failure, call) : error;
    }
    this.metrics.serviceNowCall(this.options.budget.connection, target, answer.status);
    return {
      status: answer.status,
      headers: answer.headers,
      json: this.parseBody(answer.text, answer.status, answer.headers, call),
    };
  }

  /**
   * The error for a non-success answer, with ServiceNow's message and detail when it sent its error envelope
   * and the delay it asked for in `Retry-After`.
   */
  httpError(answer: HttpAnswer, call: Pick<HttpCall, 'operation' | 'table' | 'record'>): ServiceNowError {
    const envelope = errorEnvelope.safeParse(answer.json);
    const { redactor } = this.options;
    // A rejected login (401, or 403 from the token endpoint) is fixed by an operator, not by the request: it is
    // an authentication failure, which activities keep retrying until the credentials are fixed.
    const rejectedLogin = answer.status === 401 || (answer.status === 403 && call.operation === 'token');
    const limited = answer.status === 429 ? rateLimitOf(answer.headers, this.options.now()) : undefined;
    return new ServiceNowError({
      kind: rejectedLogin ? 'auth' : 'http',
      operation: call.operation,
      table: call.table,
      record: call.record,
      status: answer.status,
      serviceNowMessage: envelope.success ? peerText(envelope.data.error.message, redactor) : undefined,
      detail: envelope.success ? peerText(envelope.data.error.detail ?? undefined, redactor) : undefined,
      retryAfterMs: limited?.delayMs ?? parseRetryAfter(answer.headers['retry-after'], this.options.now()),
      reason: limited !== undefined ? describeRateLimit(limited) : redirectReason(answer),
    });
  }

  private parseBody(
    text: string,
    status: number,
    headers: Readonly<Record<string, string | undefined>>,
    call: HttpCall,
  ): unknown {
    if (text.trim() === '') return undefined;
    const isJson = /^application\/(.+\+)?json\b/i.test(headers['content-type'] ?? '');
    const success = status >= 200 && status < 300;
    if (!isJson) {
      if (!success) return undefined; // a proxy's or load balancer's error page: the status says enough
      throw new ServiceNowError({
        kind: 'not-json',
        operation: call.operation,
        table: call.table,
        record: call.record,
        status,
        reason: `expected JSON but got '${clip(headers['content-type'] ?? 'no content type', MAX_FIELD_LENGTH)}' (is the instance hibernating or in maintenance?)`,
      });
    }
    try {
      return JSON.parse(text) as unknown;
    } catch {
      if (!success) return undefined;
      throw new ServiceNowError({
        kind: 'invalid-response',
        operation: call.operation,
        table: call.table,
        record: call.record,
        status,
        reason: 'the body is not valid JSON',
      });
    }
  }

  private transportError(failure: ExchangeFailure, call: HttpCall): ServiceNowError {
    const base = { operation: call.operation, table: call.table, record: call.record };
    switch (failure.kind) {
      case 'timeout':
        return new ServiceNowError({
          ...base,
          kind: 'timeout',
          reason: `no answer within ${this.options.timeoutMs} ms`,
        });
      case 'canceled':
        return new ServiceNowError({ ...base, kind: 'canceled', reason: 'the request was canceled' });
      case 'response-too-large':
        return new ServiceNowError({
          ...base,
          kind: 'response-too-large',
          reason: `the answer is larger than ${this.options.maxResponseBytes} bytes (lower ResponseSizeLimit)`,
        });
      case 'request-too-large':
        return new ServiceNowError({
          ...base,
          kind: 'invalid-request',
          reason: 'the request body is larger than 10 MB',
        });
      case 'network':
        // Only the error code: the message of a low-level error can quote the URL or the request.
        return new ServiceNowError({
          ...base,
          kind: 'network',
          reason: `network error ${failure.code ?? 'unknown'}`,
        });
      case 'unexpected':
        return new ServiceNowError({ ...base, kind: 'network', reason: 'the request failed unexpectedly' });
    }
  }
}

/** Names where a redirect pointed (host only), so an operator can tell a login page from a moved instance. */
function redirectReason(answer: HttpAnswer): string | undefined {
  if (answer.status < 300 || answer.status >= 400) return undefined;
  const location = answer.headers.location;
  if (location === undefined) return 'redirected (not followed)';
  try {
    return `redirected to ${new URL(location).host} (not followed)`;
  } catch {
    return 'redirected (not followed)';
  }
}
