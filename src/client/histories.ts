import type { Client } from '@temporalio/client';
import { fetchRunHistories, type RunHistory } from '../audit/histories';
import { PROVISIONING_WORKFLOW_TYPE } from '../contract/names';
import { visibilityLiteral } from './visibility';

/**
 * Workflow histories from the server, for audits and replay. Following a workflow id's runs across continue-as-new
 * is the audit's own reading of histories (`src/audit/histories.ts`); this is where clients reach it.
 */
export { fetchRunHistories };

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
