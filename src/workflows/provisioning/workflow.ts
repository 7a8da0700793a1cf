import {
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  log,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import {
  AssignmentId,
  ConnectionId,
  ProvisioningState,
  ResourceType,
  TicketNumber,
  TicketState,
} from '../../searchAttributes';
import { describeIssues, provisioningInputSchema, type ProvisioningInput } from '../../provisioning/order';
import type { ConnectorState } from '../../provisioning/states';
import { cancelUpdate, statusQuery, ticketChangedSignal, type CancelRequest } from './messages';
import { assignmentStateFor, decide, type Decision } from './outcome';
import { checkDelay, formatDuration, reminderDueAt } from './schedule';
import { bestEffort, mustHappen, optional, required, summarised } from './activityStubs';
import type {
  CarriedState,
  Phase,
  ProvisioningPolicy,
  ProvisioningResult,
  ProvisioningStatus,
  TicketRef,
  TicketStatus,
} from './types';

/** ServiceNow keeps at most 100 characters of a correlation id, and the workflow id is the correlation id. */
const MAX_ORDER_ID_LENGTH = 100;
/** Well under Temporal's 1,000-event guidance per run, leaving room for a cancellation's cleanup. */
const MAX_EVENTS_PER_RUN = 500;
const MAX_REASON_LENGTH = 1_000;
const MAX_REQUESTED_BY_LENGTH = 200;
const MISSING_READS_BEFORE_GIVING_UP = 3;

/**
 * One provisioning order, from ticket to assignment update: open a ServiceNow ticket exactly once, wait for a
 * fulfiller to close or cancel it (polling on a growing schedule, re-checking at once when told the ticket
 * changed), then record the assignment's new provisioning state. Runs for weeks; continue-as-new keeps each run's
 * history short. Input and messages are a public contract (see README, "Workflow contract").
 */
export async function provisioningWorkflow(
  input: ProvisioningInput,
  carried?: CarriedState,
): Promise<ProvisioningResult> {
  // A continued run carries an order that was valid when it arrived: a stricter schema in a later release must
  // not fail a ticket that has been open for months.
  const order = carried === undefined ? validateInput(input) : input;
  const provisioning = new Provisioning(order, carried);
  setHandler(statusQuery, () => provisioning.status());
  setHandler(ticketChangedSignal, (notice) => provisioning.ticketChanged(notice?.sysModCount));
  setHandler(cancelUpdate, (request) => provisioning.requestCancel(request), {
    validator: (request: CancelRequest) => provisioning.validateCancel(request),
  });
  try {
    return await provisioning.run();
  } catch (error) {
    if (isCancellation(error)) {
      await CancellationScope.nonCancellable(() =>
        provisioning.cancelled({ reason: 'the workflow was canceled in Temporal', requestedBy: 'Temporal' }),
      );
    }
    throw error;
  }
}

function validateInput(input: unknown): ProvisioningInput {
  const parsed = provisioningInputSchema.safeParse(input);
  if (!parsed.success) {
    const problems = describeIssues(parsed.error);
    throw ApplicationFailure.create({
      type: 'InvalidOrder',
      message: `Invalid provisioning order: ${problems.join('; ')}`,
      details: problems,
      nonRetryable: true,
    });
  }
  const orderId = workflowInfo().workflowId;
  if (orderId.length > MAX_ORDER_ID_LENGTH) {
    throw ApplicationFailure.create({
      type: 'InvalidOrder',
      message: `The workflow id is ${orderId.length} characters long; it is the ticket's correlation id, which ServiceNow cuts at ${MAX_ORDER_ID_LENGTH}. Start the order with a shorter id (snow-ticket derives one).`,
      nonRetryable: true,
    });
  }
  return parsed.data;
}

/** The failure's own message: activity failures wrap the cause that says what ServiceNow answered. */
function failureMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? cause.message : error.message;
}

function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

class Provisioning {
  private readonly orderId = workflowInfo().workflowId;
  private readonly connection: string;
  private phase: Phase;
  private policy?: ProvisioningPolicy;
  private ticket?: TicketRef;
  private openedAt?: number;
  private checks: number;
  private failedChecks: number;
  private pollStep: number;
  private nextCheckAt?: number;
  private lastCheckAt?: number;
  private lastStatus?: TicketStatus;
  private remindersSent: number;
  private cancelRequest?: CancelRequest;
  private checkRequested: boolean;
  /** Consecutive reads that did not find the ticket; one 404 (an ACL change, a hiccup) is not proof. */
  private missingReads: number;
  private lastCheckError?: string;
  private readonly runNumber: number;
  private result?: ProvisioningResult;

  constructor(
    private readonly input: ProvisioningInput,
    carried: CarriedState | undefined,
  ) {
    this.connection = input.connection;
    this.phase = carried === undefined ? 'preparing' : 'waiting';
    this.policy = carried?.policy;
    this.ticket = carried?.ticket;
    this.openedAt = carried?.openedAt;
    this.checks = carried?.checks ?? 0;
    this.failedChecks = carried?.failedChecks ?? 0;
    this.pollStep = carried?.pollStep ?? 0;
    this.nextCheckAt = carried?.nextCheckAt;
    this.lastCheckAt = carried?.lastCheckAt;
    this.lastStatus = carried?.lastStatus;
    this.remindersSent = carried?.remindersSent ?? 0;
    this.cancelRequest = carried?.cancelRequested;
    this.checkRequested = carried?.checkRequested ?? false;
    this.missingReads = carried?.missingReads ?? 0;
    this.lastCheckError = carried?.lastCheckError;
    this.runNumber = (carried?.run ?? 0) + 1;
  }

  private get order() {
    return this.input.order;
  }

  async run(): Promise<ProvisioningResult> {
    if (this.ticket === undefined) {
      upsertSearchAttributes([
        { key: AssignmentId, value: this.order.AssignedResourceTypeId },
        { key: ResourceType, value: this.order.ResourceType.Identifier },
        { key: ConnectionId, value: this.connection },
        { key: ProvisioningState, value: 'Pending' },
      ]);
      this.showDetails(
        `Preparing the ticket for ${this.order.ChangeType} ${this.order.ResourceType.Identifier}`,
      );
      this.policy = await required.planProvisioning({
        connection: this.connection,
        order: this.order,
        orderId: this.orderId,
      });
      if (this.cancelRequest !== undefined) return this.revoke(this.cancelRequest);
      await this.openTicket(this.policy);
    }
    this.phase = 'waiting';
    return this.waitForFulfilment();
  }

  private async openTicket(policy: ProvisioningPolicy): Promise<void> {
    this.phase = 'opening-ticket';
    // Once asked, ServiceNow may create the ticket whatever we do: let the call finish so that a cancellation
    // knows which ticket to cancel.
    const opened = await CancellationScope.nonCancellable(() =>
      required.openTicket.executeWithOptions(summarised(mustHappen, `Open a ${policy.table} ticket`), [
        { connection: this.connection, order: this.order, orderId: this.orderId },
      ]),
    );
    this.ticket = { table: opened.table, sysId: opened.sysId, number: opened.number };
    this.openedAt = Date.now();
    this.lastStatus = { found: true, state: opened.state, stateLabel: opened.stateLabel, active: true };
    this.nextCheckAt = this.openedAt + checkDelay(policy.polling, 0, Math.random());
    log.info('Ticket opened', { ticket: opened.number, created: opened.created });
    upsertSearchAttributes([
      { key: TicketNumber, value: opened.number },
      { key: TicketState, value: opened.stateLabel },
      { key: ProvisioningState, value: 'Transmitted' },
    ]);
    await this.record('Transmitted');
  }

  private async waitForFulfilment(): Promise<ProvisioningResult> {
    const policy = this.required(this.policy);
    const ticket = this.required(this.ticket);
    const openedAt = this.required(this.openedAt);
    const deadlineAt = policy.deadline.afterMs === undefined ? undefined : openedAt + policy.deadline.afterMs;
    for (;;) {
      if (this.cancelRequest !== undefined) return this.revoke(this.cancelRequest);
      if (this.historyIsLong()) {
        // Handlers finish before the run ends; a cancel arriving meanwhile is served by this run.
        await condition(() => allHandlersFinished() || this.cancelRequest !== undefined);
        if (this.cancelRequest === undefined) return this.continueAsNew();
        continue;
      }
      const nextCheckAt = this.required(this.nextCheckAt);
      const reminderAt = reminderDueAt(policy.reminders, openedAt, this.remindersSent);
      const wakeAt = Math.min(nextCheckAt, reminderAt ?? Infinity, deadlineAt ?? Infinity);
      this.showDetails(this.waitingDetails(ticket, nextCheckAt));
      await condition(
        () => this.checkRequested || this.cancelRequest !== undefined,
        Math.max(0, wakeAt - Date.now()),
      );
      if (this.cancelRequest !== undefined) continue;

      const now = Date.now();
      if (this.checkRequested || now >= nextCheckAt) {
        const scheduled = !this.checkRequested;
        this.checkRequested = false;
        const decision = await this.check(ticket, policy, scheduled);
        if (decision !== undefined) return this.finish(decision);
      }
      if (reminderAt !== undefined && Date.now() >= reminderAt) await this.remind(ticket, openedAt);
      if (deadlineAt !== undefined && Date.now() >= deadlineAt) return this.passDeadline(ticket, policy);
    }
  }

  private async check(
    ticket: TicketRef,
    policy: ProvisioningPolicy,
    scheduled: boolean,
  ): Promise<Decision | undefined> {
    const now = Date.now();
    this.checks += 1;
    this.lastCheckAt = now;
    if (scheduled) {
      this.nextCheckAt = now + checkDelay(policy.polling, this.pollStep, Math.random());
      this.pollStep += 1;
    }
    let status: TicketStatus;
    try {
      status = await optional.checkTicket.executeWithOptions(
        summarised(bestEffort, `Check ${ticket.number}`),
        [{ connection: this.connection, ticket }],
      );
    } catch (error) {
      // The poll schedule is the retry: a failed read must not hold the workflow, nor fail it.
      if (isCancellation(error)) throw error;
      this.failedChecks += 1;
      this.lastCheckError = failureMessage(error);
      log.warn('Ticket status check failed; the next scheduled check will try again', {
        ticket: ticket.number,
        error: this.lastCheckError,
      });
      return undefined;
    }
    this.lastCheckError = undefined;
    this.missingReads = status.found ? 0 : this.missingReads + 1;
    if (!status.found && this.missingReads < MISSING_READS_BEFORE_GIVING_UP) return undefined;
    if (status.stateLabel !== undefined && status.stateLabel !== this.lastStatus?.stateLabel) {
      upsertSearchAttributes([{ key: TicketState, value: status.stateLabel }]);
    }
    this.lastStatus = status;
    return decide(status, policy);
  }

  private async remind(ticket: TicketRef, openedAt: number): Promise<void> {
    this.remindersSent += 1;
    const open = formatDuration(Date.now() - openedAt);
    try {
      await optional.addTicketNote.executeWithOptions(summarised(bestEffort, `Remind on ${ticket.number}`), [
        {
          connection: this.connection,
          ticket,
          text:
            `Reminder: this access request has been open for ${open}. Identity Manager is waiting for it: ` +
            'close the ticket when the access is in place, or cancel it if it cannot be fulfilled.',
        },
      ]);
    } catch (error) {
      // A missed reminder is not worth holding the order for; the next one comes at its interval.
      if (isCancellation(error)) throw error;
      log.warn('Reminder note could not be added', { ticket: ticket.number });
    }
  }

  private async passDeadline(ticket: TicketRef, policy: ProvisioningPolicy): Promise<ProvisioningResult> {
    const reason = `the ticket stayed open longer than the deadline (${formatDuration(this.required(policy.deadline.afterMs))})`;
    const ended: Decision = {
      provisioningState: assignmentStateFor(policy.deadline.outcome, policy),
      resolution: 'deadline',
      reason,
    };
    if (!policy.deadline.cancelTicket) return this.finish(ended);
    return this.finish(
      (await this.cancelTicket(ticket, `Canceled by the connector: ${reason}.`, ended)) ?? ended,
    );
  }

  /** Revocation: cancel the ticket unless a fulfiller closed it first, in which case that outcome stands. */
  private async revoke(request: CancelRequest): Promise<ProvisioningResult> {
    this.phase = 'canceling';
    const by = request.requestedBy === undefined ? '' : ` by ${request.requestedBy}`;
    const reason = `revoked${by}: ${request.reason}`;
    const revoked: Decision = { provisioningState: 'Errored', resolution: 'revoked', reason };
    const note = `Canceled by the connector: the request was ${reason}.`;
    return this.finish((await this.cancelTicket(this.ticket, note, revoked)) ?? revoked);
  }

  /** Cleanup when the workflow itself is canceled: the ticket and the assignment must not be left behind. */
  async cancelled(request: CancelRequest): Promise<void> {
    if (this.result !== undefined) return;
    this.cancelRequest ??= request;
    const reason = `canceled in Temporal: ${request.reason}`;
    const canceled: Decision = { provisioningState: 'Errored', resolution: 'workflow-canceled', reason };
    const note = `Canceled by the connector: the request was ${reason}.`;
    await this.finish((await this.cancelTicket(this.ticket, note, canceled)) ?? canceled);
  }

  /**
   * Cancels the order's ticket (found by correlation id when the workflow never learnt it). Returns the outcome
   * when the ticket had already been closed by a fulfiller, or `ending` with the refusal when ServiceNow refused
   * to cancel it; undefined when it is now canceled or never existed.
   */
  private async cancelTicket(
    ticket: TicketRef | undefined,
    note: string,
    ending: Decision,
  ): Promise<Decision | undefined> {
    const policy = this.policy;
    let status;
    try {
      status = await required.cancelTicket.executeWithOptions(
        summarised(mustHappen, `Cancel ${ticket?.number ?? 'the ticket, if any'}`),
        // Without a policy the table is unknown: an earlier failed run of this order may have opened a ticket.
        [{ connection: this.connection, table: policy?.table, correlationId: this.orderId, ticket, note }],
      );
    } catch (error) {
      if (isCancellation(error)) throw error;
      // ServiceNow refused (a data policy, an ACL): the order still ends, and says the ticket is left open.
      const refusal = `the ticket could not be canceled in ServiceNow (${failureMessage(error)}); cancel it by hand`;
      log.error('Ticket cancellation refused', { ticket: ticket?.number, error: failureMessage(error) });
      return { ...ending, reason: `${ending.reason ?? ending.resolution}; ${refusal}` };
    }
    if (status === undefined) return undefined;
    this.lastStatus = status;
    if (this.ticket === undefined)
      this.ticket = { table: status.table, sysId: status.sysId, number: status.number };
    return status.closedBeforeCancel && policy !== undefined ? decide(status, policy) : undefined;
  }

  private async finish(decision: Decision): Promise<ProvisioningResult> {
    this.phase = 'recording';
    const status = this.lastStatus;
    const ticket = this.ticket;
    await this.record(decision.provisioningState, decision.reason);
    const result: ProvisioningResult = {
      orderId: this.orderId,
      assignmentId: this.order.AssignedResourceTypeId,
      connection: this.connection,
      resourceType: this.order.ResourceType.Identifier,
      changeType: this.order.ChangeType,
      provisioningState: decision.provisioningState,
      resolution: decision.resolution,
      ticket:
        ticket === undefined
          ? undefined
          : { ...ticket, state: status?.state, stateLabel: status?.stateLabel },
      closeCode: status?.closeCode,
      closeNotes: status?.closeNotes,
      closedBy: status?.closedBy,
      closedAt: status?.closedAt,
      reason: decision.reason,
      checks: this.checks,
    };
    upsertSearchAttributes([
      { key: ProvisioningState, value: decision.provisioningState },
      ...(status?.stateLabel === undefined ? [] : [{ key: TicketState, value: status.stateLabel }]),
    ]);
    this.result = result;
    this.phase = 'done';
    this.showDetails(
      `${decision.provisioningState}: ${ticket === undefined ? 'no ticket' : `ticket ${ticket.number}`}` +
        ` ${decision.resolution.replace('-', ' ')}${decision.reason === undefined ? '' : ` (${decision.reason})`}`,
    );
    return result;
  }

  private async record(state: ConnectorState, reason?: string): Promise<void> {
    const status = this.lastStatus;
    await required.recordAssignment.executeWithOptions(
      summarised(mustHappen, `Assignment ${this.order.AssignedResourceTypeId}: ${state}`),
      [
        {
          orderId: this.orderId,
          assignmentId: this.order.AssignedResourceTypeId,
          connection: this.connection,
          resourceType: this.order.ResourceType.Identifier,
          changeType: this.order.ChangeType,
          state,
          ticket:
            this.ticket === undefined
              ? undefined
              : { ...this.ticket, state: status?.stateLabel ?? undefined },
          detail:
            state === 'Transmitted'
              ? undefined
              : {
                  closeCode: status?.closeCode,
                  closeNotes: status?.closeNotes,
                  closedBy: status?.closedBy,
                  closedAt: status?.closedAt,
                  reason,
                },
          at: isoTime(Date.now()),
        },
      ],
    );
  }

  private historyIsLong(): boolean {
    const info = workflowInfo();
    return info.continueAsNewSuggested || info.historyLength > MAX_EVENTS_PER_RUN;
  }

  private continueAsNew(): Promise<never> {
    const carried: CarriedState = {
      policy: this.required(this.policy),
      ticket: this.required(this.ticket),
      openedAt: this.required(this.openedAt),
      checks: this.checks,
      failedChecks: this.failedChecks,
      pollStep: this.pollStep,
      nextCheckAt: this.required(this.nextCheckAt),
      lastCheckAt: this.lastCheckAt,
      lastStatus: this.lastStatus,
      remindersSent: this.remindersSent,
      checkRequested: this.checkRequested,
      missingReads: this.missingReads,
      lastCheckError: this.lastCheckError,
      run: this.runNumber,
    };
    return continueAsNew<typeof provisioningWorkflow>(this.input, carried);
  }

  ticketChanged(sysModCount: number | undefined): void {
    // Pushes arrive late, repeated and out of order: one older than what was last read changes nothing.
    const seen = this.lastStatus?.modCount;
    if (sysModCount !== undefined && seen !== undefined && sysModCount <= seen) return;
    if (this.phase === 'waiting') this.checkRequested = true;
  }

  validateCancel(request: CancelRequest): void {
    if (typeof request?.reason !== 'string' || request.reason.trim() === '') {
      throw new Error('reason: must be a non-empty string saying why the order is revoked');
    }
    if (request.reason.length > MAX_REASON_LENGTH) {
      throw new Error(`reason: must be at most ${MAX_REASON_LENGTH} characters`);
    }
    if (
      request.requestedBy !== undefined &&
      (typeof request.requestedBy !== 'string' || request.requestedBy.length > MAX_REQUESTED_BY_LENGTH)
    ) {
      throw new Error(`requestedBy: must be a string of at most ${MAX_REQUESTED_BY_LENGTH} characters`);
    }
    if (this.result !== undefined) {
      throw new Error(
        `the order has already ended (${this.result.provisioningState}, ${this.result.resolution})`,
      );
    }
  }

  async requestCancel(request: CancelRequest): Promise<ProvisioningResult> {
    this.cancelRequest ??= { reason: request.reason.trim(), requestedBy: request.requestedBy };
    await condition(() => this.result !== undefined);
    return this.required(this.result);
  }

  status(): ProvisioningStatus {
    return {
      orderId: this.orderId,
      phase: this.phase,
      assignmentId: this.order.AssignedResourceTypeId,
      connection: this.connection,
      resourceType: this.order.ResourceType.Identifier,
      changeType: this.order.ChangeType,
      provisioningState:
        this.result?.provisioningState ?? (this.ticket === undefined ? 'Pending' : 'Transmitted'),
      ticket: this.ticket,
      ticketState: this.lastStatus?.stateLabel,
      checks: this.checks,
      failedChecks: this.failedChecks,
      lastCheckError: this.lastCheckError,
      lastCheckAt: this.lastCheckAt === undefined ? undefined : isoTime(this.lastCheckAt),
      nextCheckAt:
        this.phase === 'waiting' && this.nextCheckAt !== undefined ? isoTime(this.nextCheckAt) : undefined,
      remindersSent: this.remindersSent,
      openedAt: this.openedAt === undefined ? undefined : isoTime(this.openedAt),
      cancelRequested: this.cancelRequest,
      run: this.runNumber,
      result: this.result,
    };
  }

  private waitingDetails(ticket: TicketRef, nextCheckAt: number): string {
    return (
      `Waiting for ${ticket.table} ${ticket.number} (${this.lastStatus?.stateLabel ?? 'state unknown'}) to be ` +
      `closed or canceled. Checks made: ${this.checks}; next check ${isoTime(nextCheckAt)}.`
    );
  }

  private showDetails(details: string): void {
    setCurrentDetails(details);
  }

  private required<T>(value: T | undefined): T {
    if (value === undefined) throw ApplicationFailure.nonRetryable('Internal state missing', 'InternalError');
    return value;
  }
}
