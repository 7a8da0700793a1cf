import { Exchange, ExchangeError, type ExchangeAnswer, type ExchangeFailure } from '../http/exchange';
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

export type HttpAnswer = ExchangeAnswer;

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
 * One exchange with Identity Manager over the shared {@link Exchange}, connections kept alive. Failures to get
 * an answer become IdentityManagerErrors naming the exchange and the origin only.
 */
export class HttpExchange {
  private readonly exchange: Exchange;

  constructor(private readonly timeoutMs: number) {
    this.exchange = new Exchange({ timeoutMs, maxResponseBytes: MAX_RESPONSE_BYTES, keepAlive: true });
  }

  async send(request: HttpRequest): Promise<HttpAnswer> {
    const target = checkEndpointUrl(request.url, 'URL');
    try {
      return await this.exchange.send(request);
    } catch (error) {
      if (!(error instanceof ExchangeError)) throw error;
      throw this.failure(error.failure, request, `${target.protocol}//${target.host}`);
    }
  }

  /** Drops kept-alive connections, so that a closed store does not hold the process open. */
  close(): void {
    this.exchange.close();
  }

  private failure(failure: ExchangeFailure, request: HttpRequest, origin: string): IdentityManagerError {
    const prefix = `Identity Manager ${request.what}: ${request.method} to ${origin}`;
    if (failure.kind === 'timeout') {
      return new IdentityManagerError({
        kind: 'timeout',
        message: `${prefix} got no answer within ${this.timeoutMs} ms`,
      });
    }
    if (
      failure.kind === 'response-too-large' ||
      (failure.kind === 'network' && failure.code === 'ERR_BAD_RESPONSE')
    ) {
      return new IdentityManagerError({
        kind: 'network',
        message: `${prefix} got an answer larger than ${MAX_RESPONSE_BYTES} bytes or a broken one`,
      });
    }
    const detail = failure.kind === 'network' ? (failure.causeCode ?? failure.code) : undefined;
    return new IdentityManagerError({
      kind: 'network',
      message: `${prefix} failed${detail === undefined ? '' : ` (${detail})`}`,
    });
  }
}
