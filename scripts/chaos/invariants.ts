import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Outcome } from './fulfiller';
import type { LedgerRow } from './ledger';
import type { SimulatorAdmin, Ticket } from './simulatorAdmin';
import { visibilityLiteral } from '../../src/client/visibility';
import { PROVISIONING_WORKFLOW_TYPE } from '../../src/contract/names';

/** An order the run sent, and the workflow it was started as (unknown if no start was acknowledged). */
export interface SentOrder {
  readonly assignmentId: string;
  readonly workflowId?: string;
}

export interface CheckInput {
  readonly client: Client;
  /** The task queue the orders ran on: workflows of other queues on the same server are not this run's. */
  readonly taskQueue: string;
  readonly admin: SimulatorAdmin;
  readonly orders: readonly SentOrder[];
  /** What the fulfiller did to each ticket it closed or canceled, by ticket number. */
  readonly outcomes: ReadonlyMap<string, Outcome>;
  /** The SQLite ledger's rows; leave out when assignments go elsewhere (the `Http` store). */
  readonly ledger?: readonly LedgerRow[];
}

/** One order's workflow as the server describes it. */
export interface OrderRun {
  readonly workflowId: string;
  readonly status: string;
  readonly startMs: number;
  readonly closeMs?: number;
}

export interface RetiredTicket {
  readonly number: string;
  /** The live ticket's correlation id named in the retirement note, if any. */
  readonly correlationId?: string;
  readonly note: string;
}

export interface CheckReport {
  readonly violations: string[];
  readonly runs: OrderRun[];
  readonly liveTickets: number;
  readonly retired: RetiredTicket[];
}

const EXPECTED_STATE: Readonly<Record<Outcome, string>> = { close: 'Executed', cancel: 'Errored' };
const RETIRED_NOTE = /Duplicate of (\S+) \(same correlation id (.+?)\)|retired by the connector/;

/** The fields of the workflow result this check reads (the README's workflow contract). */
interface ProvisioningResult {
  readonly provisioningState?: string;
  readonly ticket?: { readonly number?: string };
}

/**
 * The end-of-run invariants: every order's workflow completed; exactly one live ticket per order (retired
 * duplicates have their correlation id cleared and must be closed); no ticket or workflow that no order explains;
 * the outcome the workflow returned and the ledger recorded match what the fulfiller did to the ticket
 * (closed → Executed, canceled → Errored).
 */
export async function checkOrders(input: CheckInput): Promise<CheckReport> {
  const violations: string[] = [];
  const tickets = await input.admin.tickets('all');
  const byCorrelationId = groupBy(tickets, (ticket) => ticket.correlation_id);
  const ledger =
    input.ledger === undefined ? undefined : new Map(input.ledger.map((row) => [row.orderId, row]));
  const ledgerByAssignment = new Map((input.ledger ?? []).map((row) => [row.assignmentId, row.orderId]));
  const runs: OrderRun[] = [];
  const workflowIds = new Set<string>();

  for (const order of input.orders) {
    const workflowId = order.workflowId ?? ledgerByAssignment.get(order.assignmentId);
    if (order.workflowId === undefined) {
      violations.push(`order ${order.assignmentId}: no start was acknowledged for it by fulfill`);
    }
    if (workflowId === undefined) continue;
    workflowIds.add(workflowId);
    const problems = await checkOrder(input, workflowId, byCorrelationId.get(workflowId) ?? [], ledger, runs);
    violations.push(...problems.map((problem) => `${workflowId}: ${problem}`));
  }

  for (const [correlationId, group] of byCorrelationId) {
    if (correlationId !== '' && !workflowIds.has(correlationId)) {
      violations.push(`tickets ${numbers(group)} carry correlation id ${correlationId}, which is no order's`);
    }
  }
  const retired = await retiredTickets(input.admin, byCorrelationId.get('') ?? []);
  for (const ticket of byCorrelationId.get('') ?? []) {
    if (ticket.active === 'true')
      violations.push(`ticket ${ticket.number} has no correlation id and is open`);
  }
  for (const row of input.ledger ?? []) {
    if (!workflowIds.has(row.orderId)) violations.push(`ledger row for ${row.orderId}, which is no order's`);
  }
  violations.push(...(await unexpectedWorkflows(input.client, input.taskQueue, workflowIds)));
  return {
    violations,
    runs,
    liveTickets: tickets.filter((ticket) => workflowIds.has(ticket.correlation_id)).length,
    retired,
  };
}

async function checkOrder(
  input: CheckInput,
  workflowId: string,
  live: readonly Ticket[],
  ledger: ReadonlyMap<string, LedgerRow> | undefined,
  runs: OrderRun[],
): Promise<string[]> {
  const problems: string[] = [];
  const handle = input.client.workflow.getHandle(workflowId);
  let status: string;
  try {
    const description = await handle.describe();
    status = description.status.name;
    runs.push({
      workflowId,
      status,
      startMs: description.startTime.getTime(),
      closeMs: description.closeTime?.getTime(),
    });
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error;
    return ['no such workflow'];
  }
  if (status !== 'COMPLETED') problems.push(`workflow is ${status}, not COMPLETED`);
  if (live.length !== 1) {
    problems.push(
      live.length === 0
        ? 'no ticket carries its correlation id'
        : `${live.length} live tickets: ${numbers(live)}`,
    );
  }
  const ticket = live[0];
  if (ticket === undefined) return problems;
  if (ticket.active === 'true') {
    problems.push(`ticket ${ticket.number} is still open (${ticket.state_label})`);
    return problems;
  }
  const outcome = input.outcomes.get(ticket.number);
  if (outcome === undefined) {
    problems.push(`ticket ${ticket.number} is ${ticket.state_label}, but not by the fulfiller`);
    return problems;
  }
  // A workflow still running has not seen the outcome yet: its result and ledger row would say nothing more.
  if (status !== 'COMPLETED') return problems;
  const expected = `${EXPECTED_STATE[outcome]} on ${ticket.number}`;
  const why = `(the fulfiller ${outcome === 'close' ? 'closed' : 'canceled'} it)`;
  const result = (await handle.result()) as ProvisioningResult;
  const returned = `${result.provisioningState} on ${result.ticket?.number}`;
  if (returned !== expected) problems.push(`result ${returned}, expected ${expected} ${why}`);
  if (ledger !== undefined) {
    const row = ledger.get(workflowId);
    const recorded = row && `${row.state} on ${row.ticket?.number}`;
    if (recorded === undefined) problems.push('no ledger row');
    else if (recorded !== expected) problems.push(`ledger says ${recorded}, expected ${expected} ${why}`);
  }
  return problems;
}

/** Tickets whose correlation id was cleared, with the connector's retirement note (if it left one). */
async function retiredTickets(admin: SimulatorAdmin, tickets: readonly Ticket[]): Promise<RetiredTicket[]> {
  const retired: RetiredTicket[] = [];
  for (const ticket of tickets) {
    const notes = (await admin.journal(ticket.number)).map((entry) => entry.value);
    const note = notes.find((value) => RETIRED_NOTE.test(value)) ?? notes.join(' | ');
    retired.push({ number: ticket.number, correlationId: RETIRED_NOTE.exec(note)?.[2], note });
  }
  return retired;
}

/** Provisioning workflows on the server that no order of the run explains. */
async function unexpectedWorkflows(
  client: Client,
  taskQueue: string,
  expected: ReadonlySet<string>,
): Promise<string[]> {
  const found: string[] = [];
  const query = `WorkflowType = ${visibilityLiteral(PROVISIONING_WORKFLOW_TYPE)} AND TaskQueue = ${visibilityLiteral(taskQueue)}`;
  for await (const execution of client.workflow.list({ query })) {
    if (!expected.has(execution.workflowId)) {
      found.push(`workflow ${execution.workflowId} (${execution.status.name}) is no order's`);
    }
  }
  return found;
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(key(item));
    if (group === undefined) groups.set(key(item), [item]);
    else group.push(item);
  }
  return groups;
}

function numbers(tickets: readonly Ticket[]): string {
  return tickets.map((ticket) => `${ticket.number} (${ticket.state_label})`).join(', ');
}
