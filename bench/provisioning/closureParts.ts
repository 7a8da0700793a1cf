import { randomBytes } from 'node:crypto';
import { ticketSweepWorkflowId } from '../../src/contract/names';
import { sweepStatusQuery, type TicketSweepStatus } from '../../src/contract/sweep';
import { freePort } from '../../scripts/chaos/temporalServer';
import { openTickets, type OpeningSizes } from './openTickets';
import { CONNECTION, DAILY_POLLING, HOURLY_POLLING } from './settings';
import type { BenchStack, ConnectorPart } from './stack';

export interface PartSizes extends OpeningSizes {
  /** Orders opened on the part at its start. */
  readonly tickets: number;
  readonly maxCachedWorkflows: number;
}

const PUSH_PATH = '/servicenow/ticket-changed';

/**
 * A part that learns of closed tickets by push alone: its worker runs the push receiver on a free loopback port,
 * notified by a simulator of the part's own; polling is at its real hourly interval and the sweep off, so that
 * only push can explain a short latency. Its `tickets` orders each have their ticket.
 */
export async function startPushPart(
  stack: BenchStack,
  name: string,
  sizes: PartSizes,
): Promise<{ readonly part: ConnectorPart; readonly simulator: BenchStack['simulator'] }> {
  const port = await freePort();
  const secret = randomBytes(32).toString('base64url');
  const simulator = await stack.startPartSimulator(name, {
    url: `http://127.0.0.1:${port}${PUSH_PATH}`,
    secret,
  });
  const started = await stack
    .startConnectorPart(name, {
      polling: HOURLY_POLLING,
      maxCachedWorkflows: sizes.maxCachedWorkflows,
      simulator,
      closure: {
        Push: { Enabled: 'true', Host: '127.0.0.1', Port: String(port), Path: PUSH_PATH, Secret: secret },
      },
    })
    .catch(async (error: unknown) => {
      await simulator.child.stop();
      throw error;
    });
  const part: ConnectorPart = {
    ...started,
    stop: async () => {
      try {
        await started.stop();
      } finally {
        await simulator.child.stop();
      }
    },
  };
  await withTickets(stack, name, part, sizes);
  return { part, simulator };
}

/**
 * A part that learns of closed tickets by the sweep alone, every `intervalMs` reading the tickets changed since
 * its watermark less `overlapMs` (the default Overlap unless given); the safety poll is at a day from the first
 * check on and push is off. Its `tickets` orders each have their ticket. Stopping it ends the sweep workflow.
 */
export async function startSweepPart(
  stack: BenchStack,
  name: string,
  sizes: PartSizes & { readonly intervalMs: number; readonly overlapMs?: number },
): Promise<ConnectorPart> {
  const part = await stack.startConnectorPart(name, {
    polling: DAILY_POLLING,
    maxCachedWorkflows: sizes.maxCachedWorkflows,
    closure: {
      Sweep: {
        Enabled: 'true',
        Interval: `${sizes.intervalMs}ms`,
        ...(sizes.overlapMs === undefined ? {} : { Overlap: `${sizes.overlapMs}ms` }),
      },
    },
  });
  await withTickets(stack, name, part, sizes);
  return part;
}

/** The connection's sweep as its workflow reports it (sweeps so far, the last one's counts). */
export function sweepStatus(stack: BenchStack): Promise<TicketSweepStatus> {
  return stack.client.workflow.getHandle(ticketSweepWorkflowId(CONNECTION)).query(sweepStatusQuery);
}

async function withTickets(stack: BenchStack, name: string, part: ConnectorPart, sizes: PartSizes) {
  try {
    await openTickets(stack, name, part, sizes.tickets, sizes);
  } catch (error) {
    await part.stop();
    throw error;
  }
}
