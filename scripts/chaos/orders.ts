import { renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RESOURCE_TYPES } from './connectorSettings';
import type { Random } from './random';
import { pause } from './timing';

/** An Identity Manager provisioning order (the fields the connector reads), as written into order files. */
export interface IdentityManagerOrder {
  readonly AssignedResourceTypeId: string;
  readonly ChangeType: 'Added' | 'Modified';
  readonly Owner: { readonly Id: number; readonly Identifier: string; readonly InternalDisplayName: string };
  readonly ResourceType: { readonly Id: number; readonly Identifier: string };
  readonly Changes: Readonly<Record<string, unknown>>;
  readonly WorkflowInstanceId: number;
}

/** `count` orders with assignment ids unique to this run (`chaos-<run>-<n>`), on both ticket tables. */
export function makeOrders(count: number, runId: string, random: Random): IdentityManagerOrder[] {
  return Array.from({ length: count }, (_, i) => {
    const catalog = random.chance(0.3);
    const user = `user${random.int(1, 5000)}`;
    return {
      AssignedResourceTypeId: `chaos-${runId}-${i + 1}`,
      ChangeType: random.chance(0.8) ? 'Added' : 'Modified',
      Owner: { Id: i + 1, Identifier: user, InternalDisplayName: `User ${user}` },
      ResourceType: catalog
        ? { Id: 8, Identifier: RESOURCE_TYPES.catalog }
        : { Id: 7, Identifier: RESOURCE_TYPES.incident },
      Changes: { Login: user, Groups_add: [`group${random.int(1, 20)}`] },
      WorkflowInstanceId: 10_000 + i,
    };
  });
}

/**
 * Writes the orders into `dir` as Identity Manager order files (`{"ProvisioningOrdersList": [...]}`, 1 to 10
 * orders each), a file every 0.1 to 0.6 s, each written under a temporary name and renamed, as `fulfill` expects.
 * Returns the number of files written (fewer when `signal` stops it early).
 */
export async function feedOrders(
  dir: string,
  orders: readonly IdentityManagerOrder[],
  random: Random,
  signal: AbortSignal,
): Promise<number> {
  let files = 0;
  for (let next = 0; next < orders.length && !signal.aborted; files += 1) {
    const batch = orders.slice(next, next + random.int(1, 10));
    next += batch.length;
    const name = `orders-${String(files + 1).padStart(4, '0')}`;
    const temporary = path.join(dir, `${name}.tmp`);
    writeFileSync(temporary, JSON.stringify({ ProvisioningOrdersList: batch }, null, 2));
    renameSync(temporary, path.join(dir, `${name}.json`));
    await pause(random.int(100, 600), signal);
  }
  return files;
}
