import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { SettingsFile } from '../config/schema';
import { TICKET_SWEEP_WORKFLOW_TYPE, ticketSweepWorkflowId } from '../contract/names';
import { ticketSweepPlans } from '../platform/adapters';
import type { ticketSweepWorkflow } from '../workflows';

export interface TicketSweeps {
  /** `TicketConnector.Sweep.Enabled`. */
  readonly enabled: boolean;
  /** Sweep workflows running now (started or found running), by connection. */
  readonly running: readonly { readonly connection: string; readonly workflowId: string }[];
}

/**
 * Makes sure each connection with ticket mappings has its sweep workflow running on `taskQueue`: starting one
 * that runs already attaches to it (conflict policy USE_EXISTING), so every worker process can call this at
 * start. With sweeping off it starts nothing and stops nothing: it reports the sweeps still running, which end by
 * themselves at their next run (their plan then says there is nothing to sweep).
 */
export async function ensureTicketSweeps(
  client: Client,
  settings: SettingsFile,
  taskQueue: string,
): Promise<TicketSweeps> {
  const { Enabled } = settings.TicketConnector.Sweep;
  if (!Enabled) {
    return { enabled: false, running: await runningSweeps(client, Object.keys(settings.Connections)) };
  }
  const running = [];
  for (const connection of ticketSweepPlans(settings).keys()) {
    const workflowId = ticketSweepWorkflowId(connection);
    await client.workflow.start<typeof ticketSweepWorkflow>(TICKET_SWEEP_WORKFLOW_TYPE, {
      workflowId,
      taskQueue,
      args: [{ connection }],
      workflowIdConflictPolicy: 'USE_EXISTING',
      staticSummary: `Ticket sweep of ${connection}`,
    });
    running.push({ connection, workflowId });
  }
  return { enabled: true, running };
}

async function runningSweeps(
  client: Client,
  connections: readonly string[],
): Promise<{ connection: string; workflowId: string }[]> {
  const running = [];
  for (const connection of connections) {
    const workflowId = ticketSweepWorkflowId(connection);
    try {
      const { status } = await client.workflow.getHandle(workflowId).describe();
      if (status.name === 'RUNNING') running.push({ connection, workflowId });
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    }
  }
  return running;
}
