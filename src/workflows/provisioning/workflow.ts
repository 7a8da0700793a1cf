import {
  allHandlersFinished,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  log,
  patched,
  setHandler,
  TemporalFailure,
  workflowInfo,
} from '@temporalio/workflow';
import type { AssignmentTransition } from '../../contract/assignments';
import { approximateDuration } from '../../contract/durations';
import { clip, MAX_MESSAGE_LENGTH } from '../../contract/limits';
import {
  cancelRequestProblems,
  cancelUpdate,
  isTicketChangedNotice,
  statusQuery,
  ticketChangedSignal,
  type CancelRequest,
} from '../../contract/messages';
import type { ProvisioningInput } from '../../contract/order';
import type {
  CarriedState,
  Phase,
  ProvisioningPlan,
  ProvisioningPolicy,
  ProvisioningResult,
  ProvisioningStatus,
  TicketRef,
  TicketStatus,
} from '../../contract/provisioning';
import type { ConnectorState } from '../../contract/states';
import { isPasswordTaskQueue } from '../../contract/names';
import { passwords, settingPassword } from '../passwordReset/activityStubs';
import { passwordFailureLabel } from '../passwordReset/refusals';
import { acceptInput } from './acceptance';
import { bestEffort, mustHappen, optional, planned, required, summarised } from './activityStubs';
import { bookkeeping, isoTime } from './bookkeeping';
import { invariant } from './invariant';
import { assignmentStateFor, decide, type Decision } from './outcome';
import { Patches } from './patches';
import { checkDelay, reminderDueAt } from './schedule';

/** Well under Temporal's 1,000-event guidance per run, leaving room for a cancellation's cleanup. */
const MAX_EVENTS_PER_RUN = 500;
const MISSING_READS_BEFORE_GIVING_UP = 3;

/**
 * One provisioning order, from ticket to assignment update:
 *
 * 1. plan the ticket from the resource type's mapping, and open it exactly once;
 * 2. wait for a fulfiller to close or cancel it (checks on a growing schedule, at once when told it changed),
 *    sending reminders and honouring a deadline or a revocation meanwhile;
 * 3. end: record the assignment's final state, whatever ended the order.
 *
 * Runs for weeks; continue-as-new keeps each run's history short. Input and messages are a public contract
 * (src/contract, README "Workflow contract").
 */
export async function provisioningWorkflow(
  input: ProvisioningInput,
  carried?: CarriedState,
): Promise<ProvisioningResult> {
  const accepted = acceptInput(input, carried);
  const order = new ProvisioningOrder(accepted.input, accepted.carried);
  setHandler(statusQuery, () => order.status());
  setHandler(ticketChangedSignal, (notice) => {
    // Runs of the first release acted on any notice; their histories must replay as they ran.
    if (isTicketChangedNotice(notice) || !patched(Patches.validatedNotices))
      order.ticketChanged(notice?.sysModCount);
  });
  setHandler(cancelUpdate, (request) => order.revokeOnRequest(request), {
    validator: (request: CancelRequest) => order.checkCancel(request),
  });
  return order.run();
}

/** Mutable while the order runs; what continue-as-new hands on. */
type Progress = { -readonly [Key in keyof CarriedState]?: CarriedState[Key] } & {
  checks: number;
  failedChecks: number;
  pollStep: number;
  remindersSent: number;
  checkRequested: boolean;
  missingReads: number;
  run: number;
};

/** The plan split in two: the policy is carried from run to run, the ticket's content used once. */
interface Planned {
  readonly policy: ProvisioningPolicy;
  readonly content: ProvisioningPlan['content'];
}

class ProvisioningOrder {
  private readonly orderId = workflowInfo().workflowId;
  private readonly progress: Progress;
  private phase: Phase;
  private result?: ProvisioningResult;
  /** Assignment records in flight, in the order they were made. */
  private recording: Promise<unknown> = Promise.resolve();
  /** This order sets a password (password task queue): there is no ticket to open, wait for or cancel. */
  private settingPassword = false;

  constructor(
    private readonly input: ProvisioningInput,
    carried: CarriedState | undefined,
  ) {
    this.phase = carried === undefined ? 'preparing' : 'waiting';
    this.progress =
      carried === undefined
        ? {
            checks: 0,
            failedChecks: 0,
            pollStep: 0,
            remindersSent: 0,
            checkRequested: false,
            missingReads: 0,
            run: 1,
          }
        : {
            ...carried,
            checkRequested: carried.checkRequested ?? false,
            missingReads: carried.missingReads ?? 0,
            run: carried.run + 1,
          };
  }

  private get order() {
    return this.input.order;
  }

  private get connection() {
    return this.input.connection;
  }

  async run(): Promise<ProvisioningResult> {
    try {
      if (this.progress.ticket === undefined) {
        if (this.carriesPassword()) return await this.setPassword();
        const plan = await this.plan();
        if (this.progress.cancelRequested !== undefined)
          return await this.revoke(this.progress.cancelRequested);
        await this.openTicket(plan);
      }
      this.phase = 'waiting';
      return await this.waitForFulfilment();
    } catch (error) {
      if (isCancellation(error)) {
        await CancellationScope.nonCancellable(() =>
          this.cancelled({ reason: 'the workflow was canceled in Temporal', requestedBy: 'Temporal' }),
        );
      } else if (error instanceof TemporalFailure) {
        await this.failed(error);
      }
      throw error;
    }
  }

  // --- 0. Or set the password the order carries ---------------------------------------------------------------

  /**
   * Orders reach a password task queue only when they carry a password (the client routes them there): such an
   * order sets it instead of opening a ticket. Decided once, on the first run, behind the password-orders patch.
   */
  private carriesPassword(): boolean {
    return patched(Patches.passwordOrders) && isPasswordTaskQueue(workflowInfo().taskQueue);
  }

  /** Executed when ServiceNow took the password; Errored with the reason otherwise. Identity Manager is told. */
  private async setPassword(): Promise<ProvisioningResult> {
    this.settingPassword = true;
    this.phase = 'setting-password';
    bookkeeping.settingPassword(this.input);
    let user;
    try {
      user = await passwords.resetOrderPassword.executeWithOptions(
        summarised(settingPassword, "Set the password of the order's ServiceNow user"),
        [{ connection: this.connection, order: this.order }],
      );
    } catch (error) {
      if (isCancellation(error)) throw error;
      const reason = `the password could not be set (${passwordFailureLabel(error)}): ${failureMessage(error)}`;
      return this.end({ provisioningState: 'Errored', resolution: 'password-refused', reason });
    }
    return this.end({
      provisioningState: 'Executed',
      resolution: 'password-set',
      reason: `password set for ${user.userName} (sys_id ${user.sysId}); password_needs_reset is true`,
    });
  }

  // --- 1. Plan and open the ticket -------------------------------------------------------------------------

  private async plan(): Promise<Planned> {
    bookkeeping.arrived(this.input);
    const { content, ...policy } = await planned.planProvisioning(this.orderRequest());
    this.progress.policy = policy;
    return { policy, content };
  }

  private async openTicket({ policy, content }: Planned): Promise<void> {
    this.phase = 'opening-ticket';
    // Once asked, ServiceNow may create the ticket whatever we do: let the call finish so that a cancellation
    // knows which ticket to cancel.
    const opened = await CancellationScope.nonCancellable(() =>
      required.openTicket.executeWithOptions(summarised(mustHappen, `Open a ${policy.table} ticket`), [
        { ...this.orderRequest(), content },
      ]),
    );
    const ticket: TicketRef = { table: opened.table, sysId: opened.sysId, number: opened.number };
    const openedAt = Date.now();
    Object.assign(this.progress, {
      ticket,
      openedAt,
      lastStatus: { found: true, state: opened.state, stateLabel: opened.stateLabel, active: true },
      nextCheckAt: openedAt + checkDelay(policy.polling, 0, Math.random()),
    });
    log.info('Ticket opened', { ticket: opened.number, created: opened.created });
    bookkeeping.opened(ticket, opened.stateLabel);
    await this.record('Transmitted');
  }

  // --- 2. Wait for the fulfiller ----------------------------------------------------------------------------

  private async waitForFulfilment(): Promise<ProvisioningResult> {
    const progress = this.progress;
    const policy = invariant(progress.policy, 'a waiting order has its policy');
    const ticket = invariant(progress.ticket, 'a waiting order has its ticket');
    const openedAt = invariant(progress.openedAt, 'a waiting order knows when its ticket was opened');
    const deadlineAt = policy.deadline.afterMs === undefined ? undefined : openedAt + policy.deadline.afterMs;
    for (;;) {
      if (progress.cancelRequested !== undefined) return this.revoke(progress.cancelRequested);
      if (this.historyIsLong()) {
        // Handlers finish before the run ends; a cancel arriving meanwhile is served by this run.
        await condition(() => allHandlersFinished() || progress.cancelRequested !== undefined);
        if (progress.cancelRequested === undefined) return this.continueAsNew();
        continue;
      }
      const nextCheckAt = invariant(progress.nextCheckAt, 'a waiting order has its next check planned');
      const reminderAt = reminderDueAt(policy.reminders, openedAt, progress.remindersSent);
      const wakeAt = Math.min(nextCheckAt, reminderAt ?? Infinity, deadlineAt ?? Infinity);
      bookkeeping.waiting(ticket, progress.lastStatus?.stateLabel, progress.checks, nextCheckAt);
      await condition(
        () => progress.checkRequested || progress.cancelRequested !== undefined,
        Math.max(0, wakeAt - Date.now()),
      );
      if (progress.cancelRequested !== undefined) continue;

      if (progress.checkRequested || Date.now() >= nextCheckAt) {
        const scheduled = !progress.checkRequested;
        progress.checkRequested = false;
        const decision = await this.check(ticket, policy, scheduled);
        if (decision !== undefined) return this.end(decision);
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
    const progress = this.progress;
    const now = Date.now();
    progress.checks += 1;
    progress.lastCheckAt = now;
    if (scheduled) {
      progress.nextCheckAt = now + checkDelay(policy.polling, progress.pollStep, Math.random());
      progress.pollStep += 1;
    }
    const request = { connection: this.connection, ticket, orderId: this.orderId };
    let status: TicketStatus;
    try {
      status = await optional.checkTicket.executeWithOptions(
        summarised(bestEffort, `Check ${ticket.number}`),
        // The trigger sets the read's priority: a safety poll yields when calls are scarce. Older runs sent none.
        [
          patched(Patches.checkTriggers)
            ? { ...request, trigger: scheduled ? 'schedule' : 'notice' }
            : request,
        ],
      );
    } catch (error) {
      // The poll schedule is the retry: a failed read must not hold the workflow, nor fail it.
      if (isCancellation(error)) throw error;
      progress.failedChecks += 1;
      progress.lastCheckError = failureMessage(error);
      log.warn('Ticket status check failed; the next scheduled check will try again', {
        ticket: ticket.number,
        error: progress.lastCheckError,
      });
      return undefined;
    }
    progress.lastCheckError = undefined;
    // One 404 (an ACL change, a hiccup) is not proof that the ticket is gone.
    progress.missingReads = status.found ? 0 : progress.missingReads + 1;
    if (!status.found && progress.missingReads < MISSING_READS_BEFORE_GIVING_UP) return undefined;
    if (status.stateLabel !== undefined && status.stateLabel !== progress.lastStatus?.stateLabel) {
      bookkeeping.ticketStateChanged(status.stateLabel);
    }
    progress.lastStatus = status;
    return decide(status, policy);
  }

  private async remind(ticket: TicketRef, openedAt: number): Promise<void> {
    this.progress.remindersSent += 1;
    const open = approximateDuration(Date.now() - openedAt);
    try {
      await optional.addTicketNote.executeWithOptions(summarised(bestEffort, `Remind on ${ticket.number}`), [
        {
          connection: this.connection,
          ticket,
          orderId: this.orderId,
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
    const afterMs = invariant(policy.deadline.afterMs, 'a deadline passed has a length');
    const reason = `the ticket stayed open longer than the deadline (${approximateDuration(afterMs)})`;
    const ended: Decision = {
      provisioningState: assignmentStateFor(policy.deadline.outcome, policy),
      resolution: 'deadline',
      reason,
    };
    if (!policy.deadline.cancelTicket) return this.end(ended);
    return this.end(
      (await this.cancelTicket(ticket, `Canceled by the connector: ${reason}.`, ended)) ?? ended,
    );
  }

  // --- 3. End, whatever ended the order ---------------------------------------------------------------------

  /** Revocation: cancel the ticket unless a fulfiller closed it first, in which case that outcome stands. */
  private async revoke(request: CancelRequest): Promise<ProvisioningResult> {
    this.phase = 'canceling';
    const by = request.requestedBy === undefined ? '' : ` by ${request.requestedBy}`;
    const reason = `revoked${by}: ${request.reason}`;
    const revoked: Decision = { provisioningState: 'Errored', resolution: 'revoked', reason };
    const note = `Canceled by the connector: the request was ${reason}.`;
    return this.end((await this.cancelTicket(this.progress.ticket, note, revoked)) ?? revoked);
  }

  /** Cleanup when the workflow itself is canceled: the ticket and the assignment must not be left behind. */
  private async cancelled(request: CancelRequest): Promise<void> {
    if (this.result !== undefined) return;
    this.progress.cancelRequested ??= request;
    const reason = `canceled in Temporal: ${request.reason}`;
    const canceled: Decision = { provisioningState: 'Errored', resolution: 'workflow-canceled', reason };
    // A password order has no ticket: nothing to cancel in ServiceNow (the password may or may not be set).
    if (this.settingPassword) {
      await this.end(canceled);
      return;
    }
    const note = `Canceled by the connector: the request was ${reason}.`;
    await this.end((await this.cancelTicket(this.progress.ticket, note, canceled)) ?? canceled);
  }

  /** A failure nothing will retry (a mapping, template or caller error): Identity Manager is told before it shows. */
  private async failed(error: TemporalFailure): Promise<void> {
    if (this.result !== undefined || !patched(Patches.recordFailures)) return;
    const reason = `the order could not be carried out: ${failureMessage(error)}`;
    await CancellationScope.nonCancellable(() =>
      this.end({ provisioningState: 'Errored', resolution: 'failed', reason }),
    );
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
    const policy = this.progress.policy;
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
    this.progress.lastStatus = status;
    this.progress.ticket ??= { table: status.table, sysId: status.sysId, number: status.number };
    return status.closedBeforeCancel && policy !== undefined ? decide(status, policy) : undefined;
  }

  /** The one way out: the final state is recorded, with its reason, before the run closes. */
  private async end(decision: Decision): Promise<ProvisioningResult> {
    this.phase = 'recording';
    await this.record(decision.provisioningState, decision.reason);
    const { ticket, lastStatus: status } = this.progress;
    this.result = {
      ...this.facts(),
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
      checks: this.progress.checks,
    };
    bookkeeping.ended(decision, ticket, status?.stateLabel);
    this.phase = 'done';
    return this.result;
  }

  /**
   * Records a state of the assignment. Records cannot be canceled midway and run one after the other, so a
   * Transmitted still being retried can never land after the final state.
   */
  private record(state: ConnectorState, reason?: string): Promise<unknown> {
    const transition = this.transition(state, reason);
    const send = () =>
      required.recordAssignment.executeWithOptions(
        summarised(mustHappen, `Assignment ${this.order.AssignedResourceTypeId}: ${state}`),
        [transition],
      );
    if (!patched(Patches.recordsInOrder)) return send();
    this.recording = this.recording.catch(() => undefined).then(() => CancellationScope.nonCancellable(send));
    return this.recording;
  }

  private transition(state: ConnectorState, reason: string | undefined): AssignmentTransition {
    const { ticket, lastStatus: status } = this.progress;
    return {
      ...this.facts(),
      state,
      ticket: ticket === undefined ? undefined : { ...ticket, state: status?.stateLabel ?? undefined },
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
    };
  }

  // --- Temporal plumbing and messages ------------------------------------------------------------------------

  /** What every record, result and status says about the order. */
  private facts() {
    return {
      orderId: this.orderId,
      assignmentId: this.order.AssignedResourceTypeId,
      connection: this.connection,
      resourceType: this.order.ResourceType.Identifier,
      changeType: this.order.ChangeType,
    };
  }

  private orderRequest() {
    return { connection: this.connection, order: this.order, orderId: this.orderId };
  }

  private historyIsLong(): boolean {
    const info = workflowInfo();
    return info.continueAsNewSuggested || info.historyLength > MAX_EVENTS_PER_RUN;
  }

  private continueAsNew(): Promise<never> {
    const { policy, ticket, openedAt, nextCheckAt } = this.progress;
    const carried: CarriedState = {
      ...this.progress,
      policy: invariant(policy, 'a continued order has its policy'),
      ticket: invariant(ticket, 'a continued order has its ticket'),
      openedAt: invariant(openedAt, 'a continued order knows when its ticket was opened'),
      nextCheckAt: invariant(nextCheckAt, 'a continued order has its next check planned'),
      chain: workflowInfo().firstExecutionRunId,
    };
    return continueAsNew<typeof provisioningWorkflow>(this.input, carried);
  }

  ticketChanged(sysModCount: number | undefined): void {
    // Pushes arrive late, repeated and out of order: one older than what was last read changes nothing.
    const seen = this.progress.lastStatus?.modCount;
    if (sysModCount !== undefined && seen !== undefined && sysModCount <= seen) return;
    if (this.phase === 'waiting') this.progress.checkRequested = true;
  }

  checkCancel(request: CancelRequest): void {
    const problems = cancelRequestProblems(request);
    if (problems.length > 0) throw new Error(problems.join('; '));
    if (this.result !== undefined) {
      throw new Error(
        `the order has already ended (${this.result.provisioningState}, ${this.result.resolution})`,
      );
    }
  }

  async revokeOnRequest(request: CancelRequest): Promise<ProvisioningResult> {
    this.progress.cancelRequested ??= { reason: request.reason.trim(), requestedBy: request.requestedBy };
    await condition(() => this.result !== undefined);
    return invariant(this.result, 'an ended order has its result');
  }

  status(): ProvisioningStatus {
    const progress = this.progress;
    const optionalTime = (ms: number | undefined) => (ms === undefined ? undefined : isoTime(ms));
    return {
      ...this.facts(),
      phase: this.phase,
      provisioningState:
        this.result?.provisioningState ?? (progress.ticket === undefined ? 'Pending' : 'Transmitted'),
      ticket: progress.ticket,
      ticketState: progress.lastStatus?.stateLabel,
      checks: progress.checks,
      failedChecks: progress.failedChecks,
      lastCheckError: progress.lastCheckError,
      lastCheckAt: optionalTime(progress.lastCheckAt),
      nextCheckAt: this.phase === 'waiting' ? optionalTime(progress.nextCheckAt) : undefined,
      remindersSent: progress.remindersSent,
      openedAt: optionalTime(progress.openedAt),
      cancelRequested: progress.cancelRequested,
      run: progress.run,
      result: this.result,
    };
  }
}

/** The failure's own message, capped: activity failures wrap the cause that says what ServiceNow answered. */
function failureMessage(error: unknown): string {
  if (!(error instanceof Error)) return clip(String(error), MAX_MESSAGE_LENGTH);
  const cause = (error as { cause?: unknown }).cause;
  return clip(cause instanceof Error ? cause.message : error.message, MAX_MESSAGE_LENGTH);
}
