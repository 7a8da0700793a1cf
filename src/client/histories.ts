import type { Client } from '@temporalio/client';
import { continuedAs, continuedFrom, HistoryError, type History, type RunHistory } from '../audit/histories';
import { PROVISIONING_WORKFLOW_TYPE } from '../contract/names';
import { visibilityLiteral } from './visibility';

/** Runs of one workflow id followed at most this far: at 500 events a run, 1,000 runs are half a million events. */
export const DEFAULT_MAX_RUNS = 1_000;

export interface FetchRunsOptions {
  /** A run of the chain to start from; by default the latest run of the workflow id. */
  readonly runId?: string;
  readonly maxRuns?: number;
}

/**
 * Every run of a workflow id's latest execution chain (or of the chain holding `runId`), oldest first. Runs are
 * linked through their histories: a run's start names the run it continues (`continuedExecutionRunId`) and its
 * continue-as-new event names the next (`newExecutionRunId`). Visibility is not used, so it works on servers
 * whose visibility is eventually consistent or missing (the time-skipping test server).
 */
export async function fetchRunHistories(
  client: Client,
  workflowId: string,
  options: FetchRunsOptions = {},
): Promise<RunHistory[]> {
  const maxRuns = options.maxRuns ?? DEFAULT_MAX_RUNS;
  const startRunId = options.runId ?? (await client.workflow.getHandle(workflowId).describe()).runId;
  const fetch = async (runId: string): Promise<RunHistory> => ({
    workflowId,
    runId,
    history: await client.workflow.getHandle(workflowId, runId).fetchHistory(),
    source: 'server',
  });
  const tooMany = () =>
    new HistoryError(
      `Workflow ${workflowId} has more than ${maxRuns} runs; raise the limit to read them all`,
    );

  const start = await fetch(startRunId);
  const runs: RunHistory[] = [start];
  const seen = new Set([startRunId]);
  /** Follows the chain one way from `first`, each run naming the next through `link`; a loop ends it. */
  const follow = async (
    first: string | undefined,
    link: (history: History) => string | undefined,
    keep: (run: RunHistory) => void,
  ) => {
    for (let runId = first; runId !== undefined && !seen.has(runId);) {
      if (runs.length >= maxRuns) throw tooMany();
      seen.add(runId);
      const run = await fetch(runId);
      keep(run);
      runId = link(run.history);
    }
  };
  // Backwards to the first run of the chain, then forwards when the given run was not the latest.
  await follow(continuedFrom(start.history), continuedFrom, (run) => runs.unshift(run));
  await follow(continuedAs(start.history), continuedAs, (run) => runs.push(run));
  return runs;
}

/** Every provisioning order the server keeps: what `replay` reads when given no other source. */
export const ALL_ORDERS_QUERY = `WorkflowType = ${visibilityLiteral(PROVISIONING_WORKFLOW_TYPE)}`;

/** The histories of the runs matching a visibility query, at most `limit`; `limitReached` when more matched. */
export async function fetchMatchingHistories(
  client: Client,
  query: string,
  limit: number,
): Promise<{ readonly histories: RunHistory[]; readonly limitReached: boolean }> {
  const histories: RunHistory[] = [];
  for await (const execution of client.workflow.list({ query })) {
    if (histories.length >= limit) return { histories, limitReached: true };
    const handle = client.workflow.getHandle(execution.workflowId, execution.runId);
    histories.push({
      workflowId: execution.workflowId,
      runId: execution.runId,
      history: await handle.fetchHistory(),
      source: 'server',
    });
  }
  return { histories, limitReached: false };
}
