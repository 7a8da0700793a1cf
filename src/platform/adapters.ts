/**
 * The composition root: the one place where the settings file becomes the adapters and dependencies the
 * activities and the CLI use. Adapters take narrow options (client options per connection, mappings by resource
 * type); nothing below this layer reads the settings file's shape.
 */
import { callBudgetShare } from './callBudgets';
import { resolveExportSettings } from './exportSettings';
import type { ConnectorMetrics } from './metrics';
import { createActivities, type ConnectorActivities } from '../activities';
import type { ProvisioningSettings } from '../activities/provisioning';
import type { AssignmentStore } from '../assignments/store';
import { SAFETY_POLL_INTERVAL_MS, type SettingsFile } from '../config/schema';
import type { SweepPlan } from '../contract/sweep';
import type { LiveSettings } from '../credentials/refresh';
import type { ResourceTypeMappings } from '../provisioning/ticketContent';
import type { FixedCredentials, ServiceNowCredentials } from '../servicenow/auth';
import type { ServiceNowClient, ServiceNowClientOptions } from '../servicenow/client';
import {
  createServiceNowClient,
  serviceNowClientPool,
  withPriority,
  type ServiceNowClients,
  type ServiceNowConnections,
} from '../servicenow/connection';

type ConnectionSettings = SettingsFile['Connections'][string];

/** OAuth when ClientId, ClientSecret and OAuth2Url are set (as in the reference), Basic otherwise. */
export function credentialsOf(connection: ConnectionSettings): FixedCredentials {
  const { ClientId, ClientSecret, OAuth2Url, Login, Password } = connection;
  if (ClientId !== undefined && ClientSecret !== undefined && OAuth2Url !== undefined) {
    return {
      kind: 'oauth',
      tokenUrl: OAuth2Url,
      clientId: ClientId,
      clientSecret: ClientSecret,
      login: Login,
      password: Password,
    };
  }
  // The settings schema guarantees Login and Password when OAuth is not configured.
  return { kind: 'basic', login: Login ?? '', password: Password ?? '' };
}

/**
 * With `live` settings, credentials follow the credential stores: read again once after ServiceNow refuses
 * them (see StoredCredentialsAuthenticator).
 */
function storedCredentials(
  id: string,
  connection: ConnectionSettings,
  live: LiveSettings,
): ServiceNowCredentials {
  return {
    kind: 'stored',
    current: () => {
      const connections = live.current().Connections;
      return credentialsOf(Object.hasOwn(connections, id) ? (connections[id] ?? connection) : connection);
    },
    canReread: () => live.canReread(),
    reread: () => live.reread(),
  };
}

/** Every configured connection's client options; own entries only, so "constructor" is never inherited. */
export function serviceNowConnections(
  settings: SettingsFile,
  live?: LiveSettings,
  metrics?: ConnectorMetrics,
): ServiceNowConnections {
  return new Map(
    Object.entries(settings.Connections).map(([id, connection]): [string, ServiceNowClientOptions] => [
      id,
      {
        tableApiUrl: connection.Server,
        credentials: live === undefined ? credentialsOf(connection) : storedCredentials(id, connection, live),
        pageSize: connection.ResponseSizeLimit,
        connection: id,
        budget: callBudgetShare(settings, id),
        ...(metrics === undefined ? {} : { metrics }),
      },
    ]),
  );
}

/** One client per configured connection, created on first use and shared, with its OAuth token and budget. */
export function serviceNowClients(
  settings: SettingsFile,
  live?: LiveSettings,
  metrics?: ConnectorMetrics,
): ServiceNowClients {
  return serviceNowClientPool(serviceNowConnections(settings, live, metrics));
}

/** A client of one connection, for a single use (the CLI); UnknownConnectionError when it is not configured. */
export function serviceNowClient(settings: SettingsFile, connectionId: string): ServiceNowClient {
  return createServiceNowClient(serviceNowConnections(settings), connectionId);
}

/** The ticket mappings by resource type; own entries only. */
export function resourceTypeMappings(settings: SettingsFile): ResourceTypeMappings {
  return new Map(Object.entries(settings.TicketConnector.ResourceTypeMappings));
}

/** The settings every order's plan is made from, in the plan's own shape. */
export function provisioningSettings(settings: SettingsFile): ProvisioningSettings {
  const { Polling, Outcomes, Reminders, Deadline, Sweep } = settings.TicketConnector;
  return {
    outcomes: Outcomes,
    polling: {
      firstCheckAfterMs: Polling.FirstCheckAfter,
      maxIntervalMs:
        Polling.MaxInterval ??
        (Sweep.Enabled ? SAFETY_POLL_INTERVAL_MS.withSweep : SAFETY_POLL_INTERVAL_MS.withoutSweep),
      backoffCoefficient: Polling.BackoffCoefficient,
      jitter: Polling.Jitter,
    },
    reminders: { firstAfterMs: Reminders.FirstAfter, everyMs: Reminders.Every },
    deadline: { afterMs: Deadline.After, outcome: Deadline.Outcome, cancelTicket: Deadline.CancelTicket },
  };
}

/**
 * The sweep settings of every connection that has ticket mappings, with the tables of its mappings; sweeping is
 * on or off as a whole (`TicketConnector.Sweep.Enabled`, read by the caller).
 */
export function ticketSweepPlans(settings: SettingsFile): Map<string, SweepPlan> {
  const { Interval, Overlap, PageSize } = settings.TicketConnector.Sweep;
  const tables = new Map<string, Set<SweepPlan['tables'][number]>>();
  for (const mapping of resourceTypeMappings(settings).values()) {
    const known = tables.get(mapping.Connection) ?? new Set();
    tables.set(mapping.Connection, known.add(mapping.Table));
  }
  return new Map(
    [...tables].map(([connection, used]): [string, SweepPlan] => [
      connection,
      { tables: [...used].sort(), intervalMs: Interval, overlapMs: Overlap, pageSize: PageSize },
    ]),
  );
}

export interface ConnectorActivityOptions {
  readonly settings: SettingsFile;
  readonly version: string;
  /** The worker's deployment name and build id, reported by describeWorker. */
  readonly build?: { deploymentName: string; buildId: string };
  /** Where assignment states go; the caller opens and closes it (see assignmentStore.ts). */
  readonly assignments: AssignmentStore;
  /** ServiceNow client per connection; by default built from the settings' Connections. */
  readonly serviceNow?: ServiceNowClients;
  /** The settings' credential stores, read again after ServiceNow refuses a secret (see loadSettings). */
  readonly live?: LiveSettings;
  /** Where ServiceNow calls, budget waits, recorded states and sweeps are counted (see prometheusMetrics.ts). */
  readonly metrics?: ConnectorMetrics;
}

/** The worker's activities, wired to adapters built from the settings. */
export function connectorActivities(options: ConnectorActivityOptions): ConnectorActivities {
  const { settings } = options;
  const mappings = resourceTypeMappings(settings);
  // One pool for every activity: each connection keeps one client, and with it one OAuth token.
  const serviceNow = options.serviceNow ?? serviceNowClients(settings, options.live, options.metrics);
  return createActivities({
    worker: {
      version: options.version,
      ...(options.build === undefined ? {} : { build: options.build }),
      connections: Object.keys(settings.Connections),
      resourceTypes: [...mappings.keys()],
    },
    provisioning: {
      mappings,
      settings: provisioningSettings(settings),
      serviceNow,
      assignments: options.assignments,
      ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
    },
    export: { exportSettings: (connection) => resolveExportSettings(settings, connection), serviceNow },
    // Urgent; a 429 fails the attempt at once and Temporal retries it after the delay, visibly in its history.
    passwords: { serviceNow: withPriority(serviceNow, 'urgent', { waitOutRateLimits: false }), mappings },
    // The sweep yields to ticket creation when the budget is tight, like safety polls and reminders.
    sweep: {
      serviceNow: withPriority(serviceNow, 'background'),
      plan: (connection) =>
        settings.TicketConnector.Sweep.Enabled ? ticketSweepPlans(settings).get(connection) : undefined,
      ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
    },
  });
}
