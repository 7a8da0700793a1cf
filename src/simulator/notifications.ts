import { setTimeout as sleep } from 'node:timers/promises';
import { requireSecureEndpoint, type EndpointProblem } from '../http/secureEndpoint';
import { signedHeaders } from '../push/signature';
import type { Prng } from './random';

export interface NotifyOptions {
  /** https, or plain http to a loopback host; see notifyTarget. */
  readonly url: string;
  /** Signs every delivery (src/push/signature.ts); it never travels itself. */
  readonly secret: string;
  /** Holds changes this long before delivering them as one batch (late delivery). */
  readonly delayMs?: number;
  /** Delivers each batch newest first. */
  readonly reorder?: boolean;
  /** Share (0..1) of changes delivered a second time at the end of their batch. */
  readonly duplicateRate?: number;
  /** Changes held or in delivery beyond this many are given up (counted as failed); 10,000 by default. */
  readonly maxPending?: number;
}

/**
 * What the connector's business rule posts (deploy/servicenow/): enough to re-read the record, never its
 * content. Values are strings, as everything the platform serialises from a record; `correlation_id` is "" on a
 * ticket that carries none.
 */
export interface ChangeNotification {
  readonly table: string;
  readonly sys_id: string;
  readonly number: string;
  readonly sys_mod_count: string;
  readonly correlation_id: string;
}

export interface NotificationStats {
  readonly delivered: number;
  readonly failed: number;
  readonly pending: number;
}

const MAX_ATTEMPTS = 3;
const FIRST_RETRY_MS = 250;
const DELIVERY_TIMEOUT_MS = 10_000;
/**
 * A receiver that hangs holds each change for up to three timeouts while writes keep coming: without a cap the
 * changes, and the concurrent deliveries of their batches, would grow without bound.
 */
const MAX_PENDING = 10_000;

/** A notification URL refused at configuration time, before any secret is sent. */
export class UnsafeNotifyUrlError extends Error {
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field} ${problem}`);
    this.name = 'UnsafeNotifyUrlError';
  }
}

/**
 * Where signed notifications may go: https, or plain http to a loopback host (local receivers and test doubles),
 * and no credentials in the URL, which would travel with every notification and show wherever the URL is
 * printed. The URL itself is never repeated in the error, since it may hold such credentials.
 */
export function notifyTarget(url: string, field = 'notify.url'): URL {
  return requireSecureEndpoint(url, (problem) => new UnsafeNotifyUrlError(field, notifyProblemText(problem)));
}

function notifyProblemText(problem: EndpointProblem): string {
  switch (problem.kind) {
    case 'not-a-url':
      return 'is not a URL';
    case 'credentials-in-url':
      return 'must not hold credentials: the signature with the shared secret authenticates the sender';
    case 'not-https':
      return `must be https://, or http:// to a loopback host (127.0.0.0/8, ::1, localhost), not ${problem.origin}`;
  }
}

/**
 * Posts ticket changes to an external endpoint, asynchronously and with the imperfections of the real pattern:
 * late, repeated, out of order. Each attempt is signed as the business rule signs it (X-Snow-Timestamp,
 * X-Snow-Signature), on the wall clock rather than the instance's, since the receiver checks it against its own.
 * A failed delivery is retried a few times and then given up; nothing here can fail the write that caused it.
 */
export class Notifier {
  private batch: ChangeNotification[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly stopping = new AbortController();
  private readonly deliveries = new Set<Promise<void>>();
  /** Changes handed to a delivery and not yet delivered or given up. */
  private inDelivery = 0;
  private delivered = 0;
  private failed = 0;
  private readonly target: URL;

  constructor(
    private readonly options: NotifyOptions,
    private readonly random: Prng,
  ) {
    this.target = notifyTarget(options.url);
  }

  notify(change: ChangeNotification): void {
    if (this.stopping.signal.aborted) return;
    if (this.pending() >= (this.options.maxPending ?? MAX_PENDING)) {
      this.failed++;
      return;
    }
    this.batch.push(change);
    this.timer ??= setTimeout(() => this.flush(), this.options.delayMs ?? 0);
  }

  stats(): NotificationStats {
    return {
      delivered: this.delivered,
      failed: this.failed,
      pending: this.pending(),
    };
  }

  private pending(): number {
    return this.batch.length + this.inDelivery;
  }

  /** Cancels what has not been delivered yet and waits for deliveries in progress to stop. */
  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.batch = [];
    this.stopping.abort();
    await Promise.all(this.deliveries);
  }

  private flush(): void {
    this.timer = undefined;
    const batch = this.options.reorder ? this.batch.reverse() : this.batch;
    this.batch = [];
    const repeats = batch.filter(() => this.random.chance(this.options.duplicateRate ?? 0));
    const delivery = this.deliverInOrder([...batch, ...repeats]);
    this.deliveries.add(delivery);
    void delivery.finally(() => this.deliveries.delete(delivery));
  }

  private async deliverInOrder(changes: readonly ChangeNotification[]): Promise<void> {
    this.inDelivery += changes.length;
    for (const [index, change] of changes.entries()) {
      if (this.stopping.signal.aborted) {
        // What a close cancelled is no longer pending either.
        this.inDelivery -= changes.length - index;
        return;
      }
      if (await this.deliver(change)) this.delivered++;
      else if (!this.stopping.signal.aborted) this.failed++;
      this.inDelivery--;
    }
  }

  private async deliver(change: ChangeNotification): Promise<boolean> {
    const signal = this.stopping.signal;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      try {
        const body = JSON.stringify(change);
        const response = await fetch(this.target, {
          method: 'POST',
          // A redirect would hand the signed notice to wherever it points: it counts as a failed answer.
          redirect: 'manual',
          headers: {
            'content-type': 'application/json',
            ...signedHeaders(this.options.secret, body, new Date()),
          },
          body,
          signal: AbortSignal.any([signal, AbortSignal.timeout(DELIVERY_TIMEOUT_MS)]),
        });
        await response.arrayBuffer();
        if (response.ok) return true;
      } catch {
        // Unreachable or slow receivers are retried like any failed answer.
      }
      if (signal.aborted || attempt === MAX_ATTEMPTS) break;
      try {
        await sleep(FIRST_RETRY_MS * 2 ** (attempt - 1), undefined, { signal });
      } catch {
        break;
      }
    }
    return false;
  }
}
