import type { Command } from 'commander';
import { registerCancel } from './orders/cancel';
import { registerFulfill } from './orders/fulfill';
import { registerList } from './orders/list';
import { registerProvision } from './orders/provision';
import { registerStatus } from './orders/status';

/**
 * Provisioning orders through Temporal: `provision` and `fulfill` start them (idempotently: the same order always
 * maps to the same workflow), `status`, `list` and `cancel` look at and revoke them. Each command is a file of
 * `orders/`; every call to Temporal is a function of `src/client/`.
 */
export function registerOrderCommands(program: Command): void {
  registerProvision(program);
  registerFulfill(program);
  registerStatus(program);
  registerList(program);
  registerCancel(program);
}
