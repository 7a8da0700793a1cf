import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { SimulatorAccess } from './simulatorAdmin';

/** The connection id the chaos orders name. */
export const CONNECTION = 'Sim';

/** The resource types of the chaos settings, one per ticket table. */
export const RESOURCE_TYPES = { incident: 'Chaos_Incident', catalog: 'Chaos_Catalog' } as const;

export interface ConnectorSettingsOptions {
  readonly simulator: SimulatorAccess & { readonly tableApiUrl: string };
  readonly temporalAddress: string;
  readonly namespace?: string;
  readonly taskQueue: string;
  /** The worker's DataDirectory: the assignment ledger lives there. */
  readonly dataDir: string;
  /** `TicketConnector.Assignments`; the SQLite ledger in `dataDir` by default. */
  readonly assignments?: Record<string, unknown>;
}

/**
 * A settings file (the appsettings.agent.json shape of the README) for the worker and the CLI: the simulator as
 * connection `Sim`, the given Temporal server and task queue, and polling short enough for a run of minutes.
 */
export function writeConnectorSettings(file: string, options: ConnectorSettingsOptions): string {
  const { simulator } = options;
  const mapping = (table: string) => ({
    Connection: CONNECTION,
    Table: table,
    CallerId: simulator.login,
    Category: 'Access',
    TitleTemplate: '{{ChangeType}} {{ResourceType.Identifier}} for {{Owner.Identifier}}',
    DescriptionTemplate: 'Please grant {{ResourceType.Identifier}} to {{Owner.InternalDisplayName}}.',
  });
  const settings = {
    Connections: {
      [CONNECTION]: { Server: simulator.tableApiUrl, Login: simulator.login, Password: simulator.password },
    },
    TicketConnector: {
      DataDirectory: options.dataDir,
      Temporal: {
        Address: options.temporalAddress,
        Namespace: options.namespace ?? 'default',
        TaskQueue: options.taskQueue,
      },
      Polling: { FirstCheckAfter: '2s', MaxInterval: '10s', BackoffCoefficient: 2, Jitter: 0.1 },
      ResourceTypeMappings: {
        [RESOURCE_TYPES.incident]: mapping('incident'),
        [RESOURCE_TYPES.catalog]: mapping('sc_request'),
      },
      ...(options.assignments === undefined ? {} : { Assignments: options.assignments }),
    },
  };
  writeFileSync(path.resolve(file), JSON.stringify(settings, null, 2), { mode: 0o600 });
  return path.resolve(file);
}
