import axios, { type AxiosInstance, isAxiosError } from 'axios';
import { z } from 'zod';
import { clip, MAX_FIELD_LENGTH } from '../contract/limits';
import { peerText } from '../http/peerText';
import type { SecretRedactor } from '../http/redaction';
import { parseRetryAfter } from '../http/retryAfter';
import { requireSecureEndpoint } from '../http/secureEndpoint';
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
}

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
 */
export class HttpTransport {
  private readonly http: AxiosInstance;

  constructor(private readonly options: TransportOptions) {
    this.http = axios.create({
      timeout: options.timeoutMs,
      maxContentLength: options.maxResponseBytes,
      maxBodyLength: MAX_REQUEST_BYTES,
      // A redirect would be a login or wake-up page, never data; and it must not carry our Authorization header.
      maxRedirects: 0,
      validateStatus: () => true,
      responseType: 'text',
      // Parsed here, after the content type is checked, instead of axios' silent best-effort parse.
      transformResponse: [(data: unknown) => data],
    });
  }

  async send(call: HttpCall): Promise<HttpAnswer> {
    checkTransportUrl(call.url, call.operation);
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (call.authorization !== undefined) headers.Authorization = call.authorization;
    let data: string | undefined;
    if (call.form !== undefined) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      data = new URLSearchParams(call.form).toString();
    } else if (call.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      data = JSON.stringify(call.body);
    }
    // axios' own timeout only fires while the socket is idle; a server trickling bytes would hold the call.
    const deadline = AbortSignal.timeout(this.options.timeoutMs);
    let response;
    try {
      response = await this.http.request<string>({
        method: call.method,
        url: call.url,
        params: call.params,
        data,
        headers,
        signal: call.signal === undefined ? deadline : AbortSignal.any([call.signal, deadline]),
      });
    } catch (error) {
      throw this.transportError(error, call, deadline.aborted);
    }
    const responseHeaders = Object.fromEntries(
      Object.entries(response.headers as Record<string, unknown>).map(([key, value]) => [
        key.toLowerCase(),
        headerText(value),
      ]),
    );
    const text = typeof response.data === 'string' ? response.data : '';
    return {
      status: response.status,
      headers: responseHeaders,
      json: this.parseBody(text, response.status, responseHeaders, call),
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
    return new ServiceNowError({
      kind: rejectedLogin ? 'auth' : 'http',
      operation: call.operation,
      table: call.table,
      record: call.record,
      status: answer.status,
      serviceNowMessage: envelope.success ? peerText(envelope.data.error.message, redactor) : undefined,
      detail: envelope.success ? peerText(envelope.data.error.detail ?? undefined, redactor) : undefined,
      retryAfterMs: parseRetryAfter(answer.headers['retry-after'], this.options.now()),
      reason: answer.status >= 300 && answer.status < 400 ? redirectReason(answer) : undefined,
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

  private transportError(error: unknown, call: HttpCall, timedOut: boolean): ServiceNowError {
    const base = { operation: call.operation, table: call.table, record: call.record };
    if (error instanceof ServiceNowError) return error;
    if (!isAxiosError(error)) {
      return new ServiceNowError({ ...base, kind: 'network', reason: 'the request failed unexpectedly' });
    }
    if (timedOut || error.code === 'ECONNABORTED' || error.code === 'ETIMEDOUT') {
      return new ServiceNowError({
        ...base,
        kind: 'timeout',
        reason: `no answer within ${this.options.timeoutMs} ms`,
      });
    }
    if (axios.isCancel(error) || error.code === 'ERR_CANCELED') {
      return new ServiceNowError({ ...base, kind: 'canceled', reason: 'the request was canceled' });
    }
    if (/maxContentLength/i.test(error.message)) {
      return new ServiceNowError({
        ...base,
        kind: 'response-too-large',
        reason: `the answer is larger than ${this.options.maxResponseBytes} bytes (lower ResponseSizeLimit)`,
      });
    }
    if (/maxBodyLength/i.test(error.message)) {
      return new ServiceNowError({
        ...base,
        kind: 'invalid-request',
        reason: 'the request body is larger than 10 MB',
      });
    }
    // Only the error code: the message of a low-level error can quote the URL or the request.
    const code = error.code ?? 'unknown';
    return new ServiceNowError({ ...base, kind: 'network', reason: `network error ${code}` });
  }
}

/** Names where a redirect pointed (host only), so an operator can tell a login page from a moved instance. */
function redirectReason(answer: HttpAnswer): string {
  const location = answer.headers.location;
  if (location === undefined) return 'redirected (not followed)';
  try {
    return `redirected to ${new URL(location).host} (not followed)`;
  } catch {
    return 'redirected (not followed)';
  }
}

function headerText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) return value.map(String).join(', ');
  return undefined;
}
