import type { Command } from 'commander';
import { registerExport, registerWatch } from './export/run';
import { registerSchedule } from './export/schedules';

/**
 * `snow-ticket export`: runs the CSV export of a connection as an `exportWorkflow` and follows it (a progress bar
 * per table from the activities' heartbeats, then a summary); `export watch` follows a run started elsewhere;
 * `export schedule ...` manages the connection's Temporal Schedule. Each role is a file of `export/`; every call
 * to Temporal is a function of `src/client/`.
 */
export function registerExportCommands(program: Command): void {
  const { exportCommand } = registerExport(program);
  registerWatch(exportCommand);
  registerSchedule(exportCommand);
}
