import type { Command } from 'commander';
import { registerAssignmentCommands } from './assignmentCommands';
import { registerOrderCommands } from './orderCommands';

/**
 * The operator's and Identity Manager's provisioning commands: `provision`, `fulfill`, `status`, `list`, `cancel`
 * (orderCommands.ts, through Temporal) and `assignments` (assignmentCommands.ts, the SQLite ledger).
 */
export function registerProvisioningCommands(program: Command): void {
  registerOrderCommands(program);
  registerAssignmentCommands(program);
}
