import type { SettingsFile } from '../config/schema';
import type { CallBudgetShare } from '../servicenow/budget';

/**
 * This worker's share of a connection's ServiceNow call budget (`TicketConnector.Budget`): the connection's own
 * entry or `Default`, divided by the workers that share it. Own entries only, so "constructor" is never inherited.
 */
export function callBudgetShare(settings: SettingsFile, connectionId: string): CallBudgetShare {
  const { Default, Connections, Workers } = settings.TicketConnector.Budget;
  const budget =
    (Object.hasOwn(Connections, connectionId) ? Connections[connectionId] : undefined) ?? Default;
  return { callsPerSecond: budget.CallsPerSecond / Workers, callsPerHour: budget.CallsPerHour / Workers };
}
