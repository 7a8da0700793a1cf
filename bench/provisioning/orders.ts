import type { Client } from '@temporalio/client';
import { orderWorkflowId } from '../../src/client/provisioning';
import { PROVISIONING_WORKFLOW_TYPE } from '../../src/contract/names';
import { parseProvisioningInput, type ProvisioningInput } from '../../src/contract/order';
import { inParallel } from './measure';
import { CONNECTION, RESOURCE_TYPE } from './settings';

/** Starts in flight at once: Identity Manager's side sends orders through several clients. */
export const DEFAULT_START_CONCURRENCY = 20;

/** Order number `n` of part `part`: an Added order of the benchmark's resource type, unique per part. */
export function benchOrder(part: string, n: number): ProvisioningInput {
  return parseProvisioningInput({
    connection: CONNECTION,
    order: {
      AssignedResourceTypeId: `${part}-${n}`,
      ChangeType: 'Added',
      Owner: { Id: 42 + n, Identifier: `user${n}`, InternalDisplayName: `Bench User ${n}` },
      ResourceType: {
        Id: 7,
        Identifier: RESOURCE_TYPE,
        SourceEntityType: { Identifier: 'Directory_User' },
        TargetEntityType: { Identifier: 'App_Account' },
      },
      Changes: { Login: `user${n}`, Profile: 'Reader' },
      WorkflowInstanceId: `${part}-${n}`,
    },
  });
}

/**
 * Starts orders `first` to `first + count - 1` of `part` on `taskQueue`, none after `deadline` (epoch ms);
 * returns the workflow ids of those started, in order.
 */
export async function startOrders(
  client: Client,
  part: string,
  taskQueue: string,
  count: number,
  { concurrency = DEFAULT_START_CONCURRENCY, deadline = Infinity, first = 0 } = {},
): Promise<string[]> {
  const ids: string[] = new Array<string>(count);
  const started = await inParallel(
    count,
    concurrency,
    async (n) => {
      const input = benchOrder(part, first + n);
      const workflowId = orderWorkflowId(input);
      await client.workflow.start(PROVISIONING_WORKFLOW_TYPE, { taskQueue, workflowId, args: [input] });
      ids[n] = workflowId;
    },
    deadline,
  );
  return ids.slice(0, started);
}
