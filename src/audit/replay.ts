import path from 'node:path';
import {
  bundleWorkflowCode,
  Worker,
  type ReplayWorkerOptions,
  type WorkflowBundle,
} from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import type { DataConverter } from '@temporalio/common';
import { isPasswordTaskQueue } from '../contract/names';
import type { RunHistory } from './histories';

/**
 * Replays recorded histories against workflow code: a history that the code cannot reproduce command for command
 * is non-deterministic, which is what a workflow change does to the workflows already running unless it is
 * guarded by `patched()`. Used by `snow-ticket replay` and by the replay test over test/histories/.
 */

export type ReplayStatus = 'ok' | 'nondeterministic' | 'failed';

export interface ReplayOutcome {
  readonly source: string;
  readonly workflowId: string;
  readonly runId: string;
  readonly status: ReplayStatus;
  /** Why it did not replay, in short: Core's message (`[TMPRL1100] Nondeterminism error: ...`) when there is one. */
  readonly message?: string;
  /** The SDK's whole error message. */
  readonly detail?: string;
}

export interface ReplayOptions {
  /** Pre-built workflow code (tests bundle once); by default `workflowsPath` is bundled. */
  readonly workflowBundle?: WorkflowBundle;
  /** Workflow code to bundle; by default the connector's own (`src/workflows`). */
  readonly workflowsPath?: string;
  /** Opens encrypted payloads as the workers do (the connector's codec with the configured keys). */
  readonly dataConverter?: DataConverter;
}

const quietBundlerLogger = {
  trace() {},
  debug() {},
  info() {},
  log() {},
  warn: (message: string, meta?: Record<string, unknown>) => console.warn(message, meta ?? ''),
  error: (message: string, meta?: Record<string, unknown>) => console.error(message, meta ?? ''),
};

/** The workflow code replays run against: the connector's workflows, unless told otherwise. */
export function bundleWorkflows(workflowsPath = require.resolve('../workflows')): Promise<WorkflowBundle> {
  return bundleWorkflowCode({ workflowsPath, logger: quietBundlerLogger });
}

/** A workflow id for the replay when the history does not hold one (the file's name, or a placeholder). */
function replayWorkflowId(run: RunHistory): string {
  if (run.workflowId !== '') return run.workflowId;
  return run.source === 'server' ? 'replay' : path.basename(run.source, '.json');
}

/**
 * The task queue a replay worker needs for this history: its own when it ran on a password task queue, else none
 * (the SDK's fake queue). Workflows read `workflowInfo().taskQueue` to tell whether they may handle a password,
 * and a replay worker gives them its own queue: on the SDK's fake one, a password reset or an order that carries
 * a password would take the other path and be reported non-deterministic.
 */
function replayTaskQueue(run: RunHistory): string | undefined {
  const queue = run.history.events?.[0]?.workflowExecutionStartedEventAttributes?.taskQueue?.name ?? '';
  return isPasswordTaskQueue(queue) ? queue : undefined;
}

/**
 * Replay worker options on `taskQueue`. ReplayWorkerOptions leaves taskQueue out of its type, but the SDK spreads
 * the options over its fake queue name (Worker.constructReplayWorker), so a given one is the workflows' queue.
 */
function replayOptions(
  options: { workflowBundle: WorkflowBundle; dataConverter?: DataConverter },
  taskQueue: string | undefined,
): ReplayWorkerOptions {
  const withQueue: ReplayWorkerOptions & { taskQueue?: string } = {
    ...options,
    ...(taskQueue === undefined ? {} : { taskQueue }),
  };
  return withQueue;
}

/** The outcome of a replay, from the SDK's result (an error on failure). */
export function outcomeOf(run: RunHistory, error: unknown): ReplayOutcome {
  const base = { source: run.source, workflowId: replayWorkflowId(run), runId: run.runId };
  if (error === undefined || error === null) return { ...base, status: 'ok' };
  const detail = describeError(error);
  const message = coreMessage(detail) ?? detail;
  const status = error instanceof DeterminismViolationError ? 'nondeterministic' : 'failed';
  return { ...base, status, message, ...(message === detail ? {} : { detail }) };
}

function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  return JSON.stringify(error) ?? 'unknown error';
}

/** The SDK wraps Core's failure in a Rust debug dump (`Failure { message: "...", ... }`): the message is the gist. */
function coreMessage(detail: string): string | undefined {
  const match = /Failure \{ message: "((?:[^"\\]|\\.)*)"/.exec(detail);
  return match?.[1]?.replace(/\\(.)/g, '$1');
}

/**
 * Replays each history in turn with one replay worker, and reports each one; never throws for a history that
 * fails, so that one bad history does not hide the state of the others. Should the replay worker itself break
 * down, the history it was on is reported as failed and the replay stops there.
 */
export async function replayHistories(
  histories: Iterable<RunHistory> | AsyncIterable<RunHistory>,
  options: ReplayOptions = {},
): Promise<ReplayOutcome[]> {
  const workflowBundle = options.workflowBundle ?? (await bundleWorkflows(options.workflowsPath));
  const outcomes: ReplayOutcome[] = [];
  // The replayer takes one history at a time and reports it before taking the next: results come in order.
  // Histories of a password task queue need a replay worker on such a queue: consecutive histories that need the
  // same queue share one worker, and the next history is read only when the replayer asks for it.
  const iterator = (async function* () {
    yield* histories;
  })();
  const advance = async () => {
    const next = await iterator.next();
    return next.done === true ? undefined : next.value;
  };
  let pending = await advance();
  const fed: RunHistory[] = [];
  while (pending !== undefined) {
    const taskQueue = replayTaskQueue(pending);
    async function* feed() {
      while (pending !== undefined && replayTaskQueue(pending) === taskQueue) {
        const run = pending;
        fed.push(run);
        yield { workflowId: replayWorkflowId(run), history: run.history };
        pending = await advance();
      }
    }
    try {
      for await (const result of Worker.runReplayHistories(
        replayOptions({ workflowBundle, dataConverter: options.dataConverter }, taskQueue),
        feed(),
      )) {
        const run = fed.shift();
        if (run !== undefined) outcomes.push(outcomeOf(run, result.error));
      }
    } catch (error) {
      const message = `the replay worker stopped: ${describeError(error)}`;
      for (const run of fed.splice(0))
        outcomes.push({ ...outcomeOf(run, new Error(message)), status: 'failed' });
      break;
    }
  }
  return outcomes;
}

/** Replays one history; `outcome.status` says how it went. */
export async function replayHistory(run: RunHistory, options: ReplayOptions = {}): Promise<ReplayOutcome> {
  const workflowBundle = options.workflowBundle ?? (await bundleWorkflows(options.workflowsPath));
  try {
    await Worker.runReplayHistory(
      replayOptions({ workflowBundle, dataConverter: options.dataConverter }, replayTaskQueue(run)),
      run.history,
      replayWorkflowId(run),
    );
    return outcomeOf(run, undefined);
  } catch (error) {
    return outcomeOf(run, error);
  }
}

export interface ReplaySummary {
  readonly total: number;
  readonly ok: number;
  readonly nondeterministic: number;
  readonly failed: number;
}

export function summarise(outcomes: readonly ReplayOutcome[]): ReplaySummary {
  const count = (status: ReplayStatus) => outcomes.filter((outcome) => outcome.status === status).length;
  return {
    total: outcomes.length,
    ok: count('ok'),
    nondeterministic: count('nondeterministic'),
    failed: count('failed'),
  };
}
