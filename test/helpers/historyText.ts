import type { Client } from '@temporalio/client';
import type { History } from '@temporalio/common/lib/proto-utils';
import { historyJSON } from '../../src/audit/histories';

/**
 * A raw history (fetched by a client without the codec) as proto JSON, plus every base64 value in it decoded:
 * a payload left in clear shows its JSON, and so the password, in the decoded text.
 */
export function rawHistoryText(history: History): string {
  const json = historyJSON(history);
  const decoded: string[] = [];
  const walk = (value: unknown, depth: number): void => {
    if (depth > 64) return;
    if (typeof value === 'string') {
      if (/^[A-Za-z0-9+/]+={0,2}$/.test(value) && value.length >= 8) {
        decoded.push(Buffer.from(value, 'base64').toString('utf8'));
      }
      return;
    }
    if (typeof value === 'object' && value !== null) {
      for (const child of Object.values(value)) walk(child, depth + 1);
    }
  };
  walk(JSON.parse(json), 0);
  return [json, ...decoded].join('\n');
}

/**
 * The raw histories of every workflow in the client's namespace (at most `limit`), fetched by a client that
 * should have no payload codec: what the server stores, not what an authorised reader sees.
 */
export async function storedHistories(
  client: Client,
  limit = 500,
): Promise<{ workflowId: string; text: string }[]> {
  const found: { workflowId: string; text: string }[] = [];
  for await (const execution of client.workflow.list()) {
    if (found.length >= limit) break;
    const history = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
    found.push({ workflowId: execution.workflowId, text: rawHistoryText(history) });
  }
  return found;
}
