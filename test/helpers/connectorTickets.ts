import { CORRELATION_DISPLAY } from '../../src/servicenow/ticketCreation';
import type { SimulatorCalls } from './simulator';

/** An incident as the connector opens it: tagged with its correlation display and the order's correlation id. */
export function connectorTicket(
  calls: SimulatorCalls,
  correlationId: string,
  extra: Record<string, string> = {},
): Promise<Record<string, string>> {
  return calls.create('incident', {
    short_description: `Ticket of ${correlationId}`,
    correlation_id: correlationId,
    correlation_display: CORRELATION_DISPLAY,
    ...extra,
  });
}
