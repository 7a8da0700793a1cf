import {
  ApplicationFailure,
  continueAsNew,
  isCancellation,
  log,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import { MAX_CONNECTION_LENGTH } from '../../contract/limits';
import { CONNECTION_IDENTIFIER } from '../../contract/order';
import {
  SERVICENOW_DATE_TIME,
  sweepStatusQuery,
  type LastSweep,
  type SweepPlan,
  type TicketSweepCarried,
  type TicketSweepInput,
  type TicketSweepResult,
} from '../../contract/sweep';
import { TICKET_TABLES } from '../../contract/tickets';
import { planTicketSweep, sweepTicketChanges } from './activityStubs';

/**
 * Sweeps per run. The plan is read again at the start of each run, so a changed setting (interval, a new
 * mapping's table) applies within this many sweeps; each sweep adds about a dozen events to the history.
 */
export const SWEEPS_PER_RUN = 60;

/**
 * Watches one connection's tickets for the orders waiting on them: every interval, one
 * activity reads the connector's tickets changed since the watermark and signals their orders. Runs forever
 * under the id `ticketSweepWorkflowId(connection)`, one run per `SWEEPS_PER_RUN` sweeps; ends by itself when
 * the worker's settings no longer give it anything to sweep.
 *
 * The settings come from the worker (planTicketSweep), not from the input: the workflow is started once and left
 * running, and must follow the configuration the workers run with, not the one it was first started with.
 */
export async function ticketSweepWorkflow(input: TicketSweepInput): Promise<TicketSweepResult> {
  const { connection, carried } = checkInput(input);
  let state: TicketSweepCarried = carried ?? { recentlySignaled: [], sweeps: 0 };
  // Set once planned; the query reports it from then on.
  let plan: SweepPlan | undefined = undefined;
  setHandler(sweepStatusQuery, () => ({
    connection,
    ...(plan === undefined ? {} : { plan }),
    ...(state.watermark === undefined ? {} : { watermark: state.watermark }),
    sweeps: state.sweeps,
    ...(state.lastSweep === undefined ? {} : { lastSweep: state.lastSweep }),
  }));

  const planned = await planTicketSweep(connection);
  if (planned === null) {
    log.info('Nothing to sweep for this connection: the sweep ends', { connection });
    return {
      connection,
      ...(state.watermark === undefined ? {} : { watermark: state.watermark }),
      sweeps: state.sweeps,
    };
  }
  plan = checkPlan(planned);

  for (let sweepsInRun = 0; ;) {
    state = await sweepOnce(connection, plan, state);
    sweepsInRun += 1;
    await sleep(plan.intervalMs);
    if (sweepsInRun >= SWEEPS_PER_RUN || workflowInfo().continueAsNewSuggested) {
      return continueAsNew<typeof ticketSweepWorkflow>({ connection, carried: state });
    }
  }
}

/** One sweep; a failed one keeps the watermark, so the next reads the same changes again. */
async function sweepOnce(
  connection: string,
  plan: SweepPlan,
  state: TicketSweepCarried,
): Promise<TicketSweepCarried> {
  const sweeps = state.sweeps + 1;
  try {
    const result = await sweepTicketChanges({
      connection,
      tables: plan.tables,
      ...(state.watermark === undefined ? {} : { watermark: state.watermark }),
      recentlySignaled: state.recentlySignaled,
      overlapMs: plan.overlapMs,
      pageSize: plan.pageSize,
    });
    const lastSweep: LastSweep = { at: new Date().toISOString(), counts: result.counts };
    return {
      ...(result.watermark === undefined ? {} : { watermark: result.watermark }),
      recentlySignaled: result.recentlySignaled,
      sweeps,
      lastSweep,
    };
  } catch (error) {
    if (isCancellation(error)) throw error;
    const message = failureMessage(error);
    log.warn('Ticket sweep failed; the next one reads the same changes', { connection, error: message });
    return { ...state, sweeps, lastSweep: { at: new Date().toISOString(), error: message } };
  }
}

function failureMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? error.cause.message : error.message;
}

function invalid(what: string, problems: readonly string[]): ApplicationFailure {
  return ApplicationFailure.create({
    type: 'InvalidSweepInput',
    message: `Invalid ${what}: ${problems.join('; ')}`,
    nonRetryable: true,
  });
}

function checkInput(input: TicketSweepInput): TicketSweepInput {
  const problems: string[] = [];
  const { connection, carried } = (input ?? {}) as Partial<TicketSweepInput>;
  if (
    typeof connection !== 'string' ||
    !CONNECTION_IDENTIFIER.test(connection) ||
    connection.length > MAX_CONNECTION_LENGTH
  ) {
    problems.push(
      `connection: must be a connection identifier of at most ${MAX_CONNECTION_LENGTH} characters (a letter, then letters, digits, "." or "-")`,
    );
  }
  if (carried !== undefined) {
    if (
      carried.watermark !== undefined &&
      (typeof carried.watermark !== 'string' || !SERVICENOW_DATE_TIME.test(carried.watermark))
    ) {
      problems.push('carried.watermark: must be a date-time written YYYY-MM-DD HH:MM:SS');
    }
    if (!Array.isArray(carried.recentlySignaled)) {
      problems.push('carried.recentlySignaled: must be a list of [sys_id, sys_mod_count, sys_updated_on]');
    }
    if (!Number.isSafeInteger(carried.sweeps) || carried.sweeps < 0) {
      problems.push('carried.sweeps: must be a whole number');
    }
  }
  if (problems.length > 0) throw invalid('ticket sweep input', problems);
  return input;
}

function checkPlan(plan: SweepPlan): SweepPlan {
  const problems: string[] = [];
  const tables: readonly string[] = TICKET_TABLES;
  if (plan.tables.length === 0 || plan.tables.some((table) => !tables.includes(table))) {
    problems.push(`tables: must be some of ${TICKET_TABLES.join(', ')}`);
  }
  if (!Number.isSafeInteger(plan.intervalMs) || plan.intervalMs <= 0) {
    problems.push('intervalMs: must be a positive number of milliseconds');
  }
  if (!Number.isSafeInteger(plan.overlapMs) || plan.overlapMs < 0) {
    problems.push('overlapMs: must be a number of milliseconds');
  }
  if (!Number.isSafeInteger(plan.pageSize) || plan.pageSize < 1) {
    problems.push('pageSize: must be a positive number of rows');
  }
  if (problems.length > 0) throw invalid('ticket sweep plan', problems);
  return plan;
}
