import path from 'node:path';
import { bundleWorkflowCode, Worker, type WorkflowBundle } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import type { DataConverter } from '@temporalio/common';
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
  const fed: RunHistory[] = [];
  async function* feed() {
    for await (const run of histories) {
      fed.push(run);
      yield { workflowId: replayWorkflowId(run), history: run.history };
    }
  }
  try {
    for await (const result of Worker.runReplayHistories(
      { workflowBundle, dataConverter: options.dataConverter },
      feed(),
    )) {
      const run = fed.shift();
      if (run !== undefined) outcomes.push(outcomeOf(run, result.error));
    }
  } catch (error) {
    const message = `the replay worker stopped: ${describeError(error)}`;
    for (const run of fed.splice(0))
      outcomes.push({ ...outcomeOf(run, new Error(message)), status: 'failed' });
  }
  return outcomes;
}

/** Replays one history; `outcome.status` says how it went. */
export async function replayHistory(run: RunHistory, options: ReplayOptions = {}): Promise<ReplayOutcome> {
  const workflowBundle = options.workflowBundle ?? (await bundleWorkflows(options.workflowsPath));
  try {
    await Worker.runReplayHistory(
      { workflowBundle, dataConverter: options.dataConverter },
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
