import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import axios, { type AxiosInstance, isAxiosError } from 'axios';
import { requireSecureEndpoint } from '../http/secureEndpoint';
import { IdentityManagerError } from './identityManagerError';

export interface HttpRequest {
  readonly method: 'POST' | 'PUT' | 'PATCH';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Names the exchange in errors, e.g. "token request" or "Executed of assignment 42 (order o-1)". */
  readonly what: string;
}

export interface HttpAnswer {
  readonly status: number;
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly text: string;
}

/** The body parsed as JSON, whatever the content type claims; undefined when it is not JSON. */
export function answerJson(answer: HttpAnswer): unknown {
  try {
    return JSON.parse(answer.text) as unknown;
  } catch {
    return undefined;
  }
}

/** Answers are acknowledgements or small error documents; anything bigger is not worth reading. */
const MAX_RESPONSE_BYTES = 1024 * 1024;

/** Refuses, before anything is sent, a URL that would carry tokens in clear text (src/http/secureEndpoint). */
export function checkEndpointUrl(url: string, setting: string): URL {
  return requireSecureEndpoint(
    url,
    (problem) =>
      new IdentityManagerError({
        kind: 'invalid-request',
        message:
          problem.kind === 'not-a-url'
            ? `Identity Manager ${setting} is not a valid URL`
            : `Identity Manager ${setting} must use https (plain http only to loopback addresses) and hold no credentials; refusing to send to ${problem.origin}`,
      }),
  );
}

/**
 * One HTTP exchange: no redirects (they must not carry our Authorization header), a deadline for the whole
 * exchange, any status returned to the caller. Failures to get an answer become IdentityManagerErrors built
 * from the error code alone.
 */
export class HttpExchange {
  private readonly http: AxiosInstance;
  private readonly agents = [
    new HttpAgent({ keepAlive: true }),
    new HttpsAgent({ keepAlive: true }),
  ] as const;

  constructor(private readonly timeoutMs: number) {
    this.http = axios.create({
      timeout: timeoutMs,
      maxRedirects: 0,
      maxContentLength: MAX_RESPONSE_BYTES,
      validateStatus: () => true,
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      httpAgent: this.agents[0],
      httpsAgent: this.agents[1],
    });
  }

  async send(request: HttpRequest): Promise<HttpAnswer> {
    const target = checkEndpointUrl(request.url, 'URL');
    // axios' own timeout only fires while the socket is idle; a server trickling bytes would hold the call.
    const deadline = AbortSignal.timeout(this.timeoutMs);
    try {
      const response = await this.http.request<unknown>({
        method: request.method,
        url: request.url,
        headers: request.headers,
        data: request.body,
        signal: deadline,
      });
      const headers = Object.fromEntries(
        Object.entries(response.headers as Record<string, unknown>).map(([name, value]) => [
          name.toLowerCase(),
          Array.isArray(value) ? value.join(', ') : typeof value === 'string' ? value : undefined,
        ]),
      );
      return {
        status: response.status,
        headers,
        text: typeof response.data === 'string' ? response.data : '',
      };
    } catch (error) {
      throw this.failure(error, request, `${target.protocol}//${target.host}`, deadline.aborted);
    }
  }

  /** Drops kept-alive connections, so that a closed store does not hold the process open. */
  close(): void {
    for (const agent of this.agents) agent.destroy();
  }

  private failure(
    error: unknown,
    request: HttpRequest,
    origin: string,
    timedOut: boolean,
  ): IdentityManagerError {
    const code = isAxiosError(error) ? error.code : undefined;
    const prefix = `Identity Manager ${request.what}: ${request.method} to ${origin}`;
    if (timedOut || code === 'ECONNABORTED' || code === 'ETIMEDOUT') {
      return new IdentityManagerError({
        kind: 'timeout',
        message: `${prefix} got no answer within ${this.timeoutMs} ms`,
      });
    }
    if (code === 'ERR_BAD_RESPONSE' || (isAxiosError(error) && /maxContentLength/i.test(error.message))) {
      return new IdentityManagerError({
        kind: 'network',
        message: `${prefix} got an answer larger than ${MAX_RESPONSE_BYTES} bytes or a broken one`,
      });
    }
    // Only the code: axios' messages are safe today, but its error objects carry the request headers.
    const cause = isAxiosError(error) ? (error.cause as { code?: unknown } | undefined) : undefined;
    const detail = typeof cause?.code === 'string' ? cause.code : code;
    return new IdentityManagerError({
      kind: 'network',
      message: `${prefix} failed${detail === undefined ? '' : ` (${detail})`}`,
    });
  }
}
