import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RunningSimulator } from '../../scripts/chaos/simulatorProcess';

/** The connection and resource type every benchmark order names. */
export const CONNECTION = 'Sim';
export const RESOURCE_TYPE = 'Bench_Incident';

/** The per-order poll, in the settings' own duration strings ("5s", "1h"). */
export interface PollingSettings {
  readonly FirstCheckAfter: string;
  readonly MaxInterval: string;
  readonly Jitter?: number;
}

/** The old default per-order poll, unscaled: no status check within a part's run. */
export const HOURLY_POLLING: PollingSettings = { FirstCheckAfter: '1h', MaxInterval: '1h' };

/** The safety poll while the sweep runs, unscaled, from the first check on: none within a part's run. */
export const DAILY_POLLING: PollingSettings = { FirstCheckAfter: '1d', MaxInterval: '1d' };

/** TicketConnector sections a part turns on, each replacing the benchmark's "off" whole. */
export interface ClosureSettings {
  readonly Push?: Record<string, string>;
  readonly Sweep?: Record<string, string>;
}

export interface BenchSettingsOptions {
  readonly simulator: RunningSimulator;
  readonly temporalAddress: string;
  readonly taskQueue: string;
  /** The worker's DataDirectory: its assignment ledger is `assignments.sqlite` there. */
  readonly dataDir: string;
  readonly polling: PollingSettings;
  readonly maxCachedWorkflows: number;
  readonly closure?: ClosureSettings;
}

/**
 * A settings file for one benchmark worker: the simulator as connection `Sim`, one incident mapping, the SQLite
 * ledger. Push and the sweep are off unless `closure` turns them on, so that each figure is the mode it names;
 * the call budget is set to its maximum, so that it measures the connector's machinery rather than the budget
 * (10 calls/s by default).
 */
export function writeBenchSettings(file: string, options: BenchSettingsOptions): string {
  const { simulator } = options;
  const settings = {
    Connections: {
      [CONNECTION]: { Server: simulator.tableApiUrl, Login: simulator.login, Password: simulator.password },
    },
    TicketConnector: {
      DataDirectory: options.dataDir,
      Temporal: { Address: options.temporalAddress, Namespace: 'default', TaskQueue: options.taskQueue },
      Polling: { BackoffCoefficient: 2, Jitter: 0.1, ...options.polling },
      Worker: { MaxCachedWorkflows: String(options.maxCachedWorkflows) },
      Push: { Enabled: 'false' },
      Sweep: { Enabled: 'false' },
      ...options.closure,
      Budget: { Default: { CallsPerSecond: 1000, CallsPerHour: '100000000' } },
      ResourceTypeMappings: {
        [RESOURCE_TYPE]: {
          Connection: CONNECTION,
          Table: 'incident',
          CallerId: simulator.login,
          Category: 'Access',
          TitleTemplate: '{{ChangeType}} {{ResourceType.Identifier}} for {{Owner.Identifier}}',
          DescriptionTemplate: 'Please grant {{ResourceType.Identifier}} to {{Owner.InternalDisplayName}}.',
        },
      },
    },
  };
  writeFileSync(path.resolve(file), JSON.stringify(settings, null, 2), { mode: 0o600 });
  return path.resolve(file);
}
