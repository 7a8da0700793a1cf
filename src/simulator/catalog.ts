import { ApiError, recordNotFound, unreadableRequest } from './apiErrors';
import type { AuthenticatedUser } from './auth';
import type { Store } from './store';
import type { TableWriter } from './tableWriter';

export interface OrderNowResult {
  readonly sys_id: string;
  readonly number: string;
  readonly request_number: string;
  readonly request_id: string;
  readonly table: 'sc_request';
}

/**
 * `order_now` of the Service Catalog API: one sc_request, its sc_req_item and a fulfilment sc_task, created as
 * the platform does for an orderer without any write role. There is no idempotency key: ordering twice makes
 * two requests. The variables are written into the item's and the task's description, where a fulfiller
 * reads them.
 */
export function orderNow(
  store: Store,
  writer: TableWriter,
  itemSysId: string,
  body: unknown,
  user: AuthenticatedUser,
): OrderNowResult {
  const items = store.table('sc_cat_item');
  const item = items.get(itemSysId);
  if (item === undefined || items.read(item, 'active') !== 'true') throw recordNotFound();
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw unreadableRequest('The request body must be a JSON object');
  }
  const order = body as Record<string, unknown>;
  const rawQuantity = order.sysparm_quantity;
  const quantity =
    typeof rawQuantity === 'number' || typeof rawQuantity === 'string' ? String(rawQuantity).trim() : '';
  if (!/^[1-9]\d*$/.test(quantity)) {
    throw new ApiError(400, 'Mandatory parameter sysparm_quantity is missing or invalid');
  }
  const requestedFor =
    typeof order.sysparm_requested_for === 'string' ? order.sysparm_requested_for : user.sysId;
  const itemName = items.read(item, 'name');
  const variables = describeVariables(order.variables);
  const asSystem = { user, inputDisplayValue: false, checkAcl: false };

  const request = writer.insert(
    'sc_request',
    { requested_for: requestedFor, short_description: itemName },
    asSystem,
  );
  const requestSysId = store.table('sc_request').read(request, 'sys_id');
  const requestItem = writer.insert(
    'sc_req_item',
    {
      request: requestSysId,
      cat_item: itemSysId,
      requested_for: requestedFor,
      quantity,
      short_description: items.read(item, 'short_description') || itemName,
      description: variables,
    },
    asSystem,
  );
  writer.insert(
    'sc_task',
    {
      request: requestSysId,
      request_item: store.table('sc_req_item').read(requestItem, 'sys_id'),
      short_description: itemName,
      description: variables,
    },
    asSystem,
  );
  const number = store.table('sc_request').read(request, 'number');
  return {
    sys_id: requestSysId,
    number,
    request_number: number,
    request_id: requestSysId,
    table: 'sc_request',
  };
}

function describeVariables(variables: unknown): string {
  if (typeof variables !== 'object' || variables === null) return '';
  return Object.entries(variables)
    .map(([name, value]) => `${name}: ${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join('\n');
}
