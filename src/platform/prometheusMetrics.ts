/**
 * Prometheus metrics of a worker process: the Temporal SDK's own (task slots, poll latencies, workflow cache...)
 * and the connector's (ConnectorMetrics), both through the SDK runtime's meter, so that one endpoint serves
 * them all: http://Host:Port/metrics. Every metric is documented in docs/metrics.md.
 */
import type { Logger, MetricMeter } from '@temporalio/common';
import { Runtime } from '@temporalio/worker';
import type { MetricsSettings } from '../config/schema';
import type { ConnectorMetrics } from './metrics';

/** Waits for the call budget last from milliseconds (a token) to an hour (a rate-limit window). */
const BUDGET_WAIT_BUCKETS_SECONDS = [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600];

export const METRIC_NAMES = {
  serviceNowCalls: 'snow_servicenow_calls_total',
  budgetWait: 'snow_budget_wait_seconds',
  pushRequests: 'snow_push_requests_total',
  sweepTicketsRead: 'snow_sweep_tickets_read_total',
  sweepOrdersSignaled: 'snow_sweep_orders_signaled_total',
  ordersRecorded: 'snow_orders_recorded_total',
} as const;

/** `host:port`, with an IPv6 host in brackets. */
function bindAddress(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Where the metrics are served, for start-up messages; undefined without a port. */
export function metricsUrl(settings: MetricsSettings): string | undefined {
  return settings.Port === undefined
    ? undefined
    : `http://${bindAddress(settings.Host, settings.Port)}/metrics`;
}

/**
 * Installs the SDK runtime with a Prometheus endpoint when `Metrics.Port` is set, and returns the connector's
 * metrics on the same endpoint; undefined (and nothing installed) without a port. Must run before any Worker or
 * NativeConnection is created, at most once per process: the runtime is a process-wide singleton (an
 * IllegalStateError otherwise). `logger` is the runtime's logger, which Runtime.install would otherwise default.
 */
export function installMetrics(
  settings: MetricsSettings,
  options: { readonly logger?: Logger } = {},
): ConnectorMetrics | undefined {
  if (settings.Port === undefined) return undefined;
  const runtime = Runtime.install({
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    telemetryOptions: {
      metrics: {
        prometheus: {
          bindAddress: bindAddress(settings.Host, settings.Port),
          histogramBucketOverrides: { [METRIC_NAMES.budgetWait]: BUDGET_WAIT_BUCKETS_SECONDS },
        },
      },
    },
  });
  return meterMetrics(runtime.metricMeter);
}

/** The connector's metrics on a Temporal metric meter (the runtime's, or a test's). */
export function meterMetrics(meter: MetricMeter): ConnectorMetrics {
  const calls = meter.createCounter(
    METRIC_NAMES.serviceNowCalls,
    '1',
    'ServiceNow HTTP calls by connection, table (or API) and status (0: no answer)',
  );
  const waits = meter.createHistogram(
    METRIC_NAMES.budgetWait,
    'float',
    's',
    'Time ServiceNow calls waited for the call budget (budget) or a 429 pause (rate-limited)',
  );
  const push = meter.createCounter(METRIC_NAMES.pushRequests, '1', 'Push requests received, by outcome');
  const ticketsRead = meter.createCounter(
    METRIC_NAMES.sweepTicketsRead,
    '1',
    'Tickets the sweep read, by connection',
  );
  const ordersSignaled = meter.createCounter(
    METRIC_NAMES.sweepOrdersSignaled,
    '1',
    'Orders the sweep told about a ticket change, by connection',
  );
  const recorded = meter.createCounter(
    METRIC_NAMES.ordersRecorded,
    '1',
    'Assignment states recorded for Identity Manager, by state',
  );
  return {
    serviceNowCall: (connection, table, status) =>
      calls.add(1, { connection, table, status: String(status) }),
    budgetWait: (connection, reason, waitedMs) => waits.record(waitedMs / 1000, { connection, reason }),
    push: (outcome) => push.add(1, { outcome }),
    sweep: (connection, read, signaled) => {
      ticketsRead.add(read, { connection });
      ordersSignaled.add(signaled, { connection });
    },
    orderRecorded: (state) => recorded.add(1, { state }),
  };
}
