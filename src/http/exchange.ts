import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import axios, { type AxiosInstance, isAxiosError } from 'axios';

export interface ExchangeOptions {
  /** For the whole exchange, not only while the connection is silent. */
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  readonly maxRequestBytes?: number;
  /** Keeps connections open between calls; {@link Exchange.close} drops them. */
  readonly keepAlive?: boolean;
  /** Mutual TLS: the client certificate and key (PEM) presented to https servers, and extra trusted CAs. */
  readonly tls?: { readonly cert: string; readonly key: string; readonly ca?: string };
}

export interface ExchangeRequest {
  readonly method: string;
  readonly url: string;
  readonly params?: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly signal?: AbortSignal;
}

export interface ExchangeAnswer {
  readonly status: number;
  /** Lower-case names; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The body as text, unparsed: the caller knows what it expects. */
  readonly text: string;
}

/** Why no usable answer came back. Built from error codes only: the HTTP library's errors carry the request. */
export type ExchangeFailure =
  | { readonly kind: 'timeout' }
  | { readonly kind: 'canceled' }
  | { readonly kind: 'response-too-large' }
  | { readonly kind: 'request-too-large' }
  /** `code` is the library's (ERR_BAD_RESPONSE, ECONNREFUSED...), `causeCode` the socket's when there is one. */
  | { readonly kind: 'network'; readonly code?: string; readonly causeCode?: string }
  /** Something other than the HTTP library failed: nothing is known about it. */
  | { readonly kind: 'unexpected' };

export class ExchangeError extends Error {
  constructor(readonly failure: ExchangeFailure) {
    super(`HTTP exchange failed: ${failure.kind}`);
    this.name = 'ExchangeError';
  }
}

/**
 * One HTTP exchange as both adapters need it: no redirects (a login or wake-up page is never data, and a
 * redirect must not carry our Authorization header), a deadline for the whole exchange, size caps, the body as
 * text. Any HTTP status is returned; only a failure to get an answer throws, as an {@link ExchangeError}.
 */
export class Exchange {
  private readonly http: AxiosInstance;
  private readonly agents: readonly (HttpAgent | HttpsAgent)[];

  constructor(private readonly options: ExchangeOptions) {
    const keepAlive = options.keepAlive === true;
    const agents = {
      ...(keepAlive && { httpAgent: new HttpAgent({ keepAlive }) }),
      ...((keepAlive || options.tls !== undefined) && {
        httpsAgent: new HttpsAgent({ keepAlive, ...options.tls }),
      }),
    };
    this.agents = Object.values(agents);
    this.http = axios.create({
      timeout: options.timeoutMs,
      maxContentLength: options.maxResponseBytes,
      ...(options.maxRequestBytes !== undefined && { maxBodyLength: options.maxRequestBytes }),
      maxRedirects: 0,
      validateStatus: () => true,
      responseType: 'text',
      // Callers parse, after checking what came back, instead of axios' silent best-effort parse.
      transformResponse: [(data: unknown) => data],
      ...agents,
    });
  }

  async send(request: ExchangeRequest): Promise<ExchangeAnswer> {
    // axios' own timeout only fires while the socket is idle; a server trickling bytes would hold the call.
    const deadline = AbortSignal.timeout(this.options.timeoutMs);
    let response;
    try {
      response = await this.http.request<unknown>({
        method: request.method,
        url: request.url,
        params: request.params,
        data: request.body,
        headers: request.headers,
        signal: request.signal === undefined ? deadline : AbortSignal.any([request.signal, deadline]),
      });
    } catch (error) {
      throw new ExchangeError(classify(error, deadline.aborted));
    }
    return {
      status: response.status,
      headers: Object.fromEntries(
        Object.entries(response.headers as Record<string, unknown>).map(([name, value]) => [
          name.toLowerCase(),
          headerText(value),
        ]),
      ),
      text: typeof response.data === 'string' ? response.data : '',
    };
  }

  /** Drops kept-alive connections, so that a closed adapter does not hold the process open. */
  close(): void {
    for (const agent of this.agents) agent.destroy();
  }
}

/** The body parsed as JSON, whatever the content type claims; undefined when it is not JSON. */
export function answerJson(answer: ExchangeAnswer): unknown {
  try {
    return JSON.parse(answer.text) as unknown;
  } catch {
    return undefined;
  }
}

function classify(error: unknown, timedOut: boolean): ExchangeFailure {
  if (!isAxiosError(error)) return { kind: 'unexpected' };
  if (timedOut || error.code === 'ECONNABORTED' || error.code === 'ETIMEDOUT') return { kind: 'timeout' };
  if (axios.isCancel(error) || error.code === 'ERR_CANCELED') return { kind: 'canceled' };
  if (/maxContentLength/i.test(error.message)) return { kind: 'response-too-large' };
  if (/maxBodyLength/i.test(error.message)) return { kind: 'request-too-large' };
  const cause = error.cause as { code?: unknown } | undefined;
  return {
    kind: 'network',
    code: error.code,
    causeCode: typeof cause?.code === 'string' ? cause.code : undefined,
  };
}

function headerText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) return value.map(String).join(', ');
  return undefined;
}
