/**
 * The connector's own metrics, as a port: push receiver, sweep, ServiceNow client and budget report through it,
 * and the worker exports them in Prometheus text beside the SDK's (see prometheusMetrics). Labels are
 * identifiers only (connection, table, status, outcome), never personal data.
 */
export interface ConnectorMetrics {
  /** One ServiceNow HTTP call, by connection, table (or API) and HTTP status (0 when no answer came). */
  serviceNowCall(connection: string, table: string, status: number): void;
  /** A call held back by the call budget or a 429, with how long it waited. */
  budgetWait(connection: string, reason: 'budget' | 'rate-limited', waitedMs: number): void;
  /** A push request and what the receiver did with it (signaled, ignored, or the refusal's kind). */
  push(outcome: string): void;
  /** One sweep of a connection: tickets read and orders told. */
  sweep(connection: string, ticketsRead: number, ordersSignaled: number): void;
  /** An assignment state recorded (Transmitted, Executed, Errored...). */
  orderRecorded(state: string): void;
}

/** For tests and tools that do not export metrics. */
export const noMetrics: ConnectorMetrics = {
  serviceNowCall: () => undefined,
  budgetWait: () => undefined,
  push: () => undefined,
  sweep: () => undefined,
  orderRecorded: () => undefined,
};
