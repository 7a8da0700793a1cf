import { ApplicationFailure, patched, workflowInfo } from '@temporalio/workflow';
import { MAX_ORDER_ID_LENGTH } from '../../contract/limits';
import {
  describeIssues,
  dotSegmentIdProblems,
  orderLimitProblems,
  provisioningInputShape,
  type ProvisioningInput,
  workflowIdProblems,
} from '../../contract/order';
import { carriedStateSchema, type CarriedState } from '../../contract/provisioning';
import { InvariantError } from './invariant';
import { Patches } from './patches';

/**
 * What a run accepts from its starter. Every input comes from a client that may be wrong or hostile: the order
 * is checked on the first run, and a carried state is taken only from the run before this one.
 */
export interface AcceptedInput {
  readonly input: ProvisioningInput;
  readonly carried?: CarriedState;
}

export function acceptInput(input: unknown, carried: unknown): AcceptedInput {
  if (carried === undefined) return { input: acceptOrder(input) };
  // A continued run carries an order that was valid when it arrived: a stricter schema in a later release must
  // not fail a ticket that has been open for months.
  return { input: input as ProvisioningInput, carried: acceptCarried(carried) };
}

function invalid(type: string, message: string, details?: string[]): ApplicationFailure {
  return ApplicationFailure.create({ type, message, details, nonRetryable: true });
}

function acceptOrder(input: unknown): ProvisioningInput {
  const refuse = (problems: string[]) =>
    invalid('InvalidOrder', `Invalid provisioning order: ${problems.join('; ')}`, problems);
  const parsed = provisioningInputShape.safeParse(input);
  if (!parsed.success) throw refuse(describeIssues(parsed.error));
  // Limits added after the first release apply to new runs only: runs already open replay as they ran.
  const problems = patched(Patches.orderLimits) ? orderLimitProblems(parsed.data) : [];
  if (problems.length > 0) throw refuse(problems);
  const orderId = workflowInfo().workflowId;
  if (patched(Patches.dotSegmentIds)) {
    const ids = [...dotSegmentIdProblems(parsed.data), ...workflowIdProblems(orderId)];
    if (ids.length > 0) throw refuse(ids);
  }
  if (orderId.length > MAX_ORDER_ID_LENGTH) {
    throw invalid(
      'InvalidOrder',
      `The workflow id is ${orderId.length} characters long; it is the ticket's correlation id, which ServiceNow cuts at ${MAX_ORDER_ID_LENGTH}. Start the order with a shorter id (snow-ticket derives one).`,
    );
  }
  return parsed.data;
}

/**
 * Carried state decides which ticket the connector's account cancels and whose outcome lands on an assignment,
 * so it is accepted only from a continue-as-new of this same workflow chain: never on a first run, never on a
 * cron run, and (since the second release) only with the chain's first run id, which no client can know
 * before it starts the workflow.
 */
function acceptCarried(carried: unknown): CarriedState {
  const info = workflowInfo();
  const refuse = (why: string) =>
    invalid(
      'InvalidInput',
      `The second workflow argument (carried state) is only accepted from a continued run of the same order: ${why}. Start an order with its input alone.`,
    );
  if (info.continuedFromExecutionRunId === undefined) throw refuse('this is a first run');
  if (info.cronSchedule !== undefined) throw refuse('orders never run on a cron schedule');
  const chain = (carried as { chain?: unknown } | null)?.chain;
  if (chain === undefined ? info.attempt > 1 : chain !== info.firstExecutionRunId) {
    throw refuse('it was not handed on by this workflow chain');
  }
  // Handed on by this order's own previous run: a state this code cannot read is a bug to fix, not a verdict on
  // the order, so the workflow task fails (and is retried by a fixed worker) rather than the order.
  const parsed = carriedStateSchema.safeParse(carried);
  if (!parsed.success) {
    throw new InvariantError(
      `the carried state of the previous run is not readable (${describeIssues(parsed.error, 'carried').join('; ')})`,
    );
  }
  return parsed.data;
}
