import { createHash } from 'node:crypto';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateStage,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { MAX_ORDER_ID_LENGTH } from '../contract/limits';
import { PROVISIONING_WORKFLOW_TYPE, passwordTaskQueue } from '../contract/names';
import { parseProvisioningInput, type ProvisioningInput } from '../contract/order';
import type { provisioningWorkflow } from '../workflows';
import { cancelUpdate, statusQuery } from '../contract/messages';
import { keyedDigest } from '../codec/keyring';
import { visibilityLiteral } from './visibility';
import { carriesPassword, type PasswordMapping } from '../provisioning/orderPassword';
import { encryptsPayloads } from './passwordReset';

/** JSON with object keys sorted at every level, so that any client can compute the same digest. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, field]) => field !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, field]) => `${JSON.stringify(key)}:${canonicalJson(field)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function digest(value: unknown, length: number): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, length);
}

/**
 * The order's workflow id: the same order always gets the same id, so a repeated order finds the first one's
 * run (and ticket) instead of opening another. The connection, assignment and change are readable in it; a
 * digest of the change's content tells two different changes of one assignment apart.
 *
 * An order that carries a password (`secret`: the attribute of Changes that holds it) is digested with an HMAC
 * of the password under `secret.key` in its place: the id (stored in clear) never reveals it, not even to a
 * guess checked against a plain hash, and a second, different password for the same assignment gets its own
 * run instead of being attached to the first.
 */
export function orderWorkflowId(
  input: ProvisioningInput,
  secret?: { readonly attribute: string; readonly key: Buffer },
): string {
  const { connection, order } = input;
  const change = order.ChangeType.toLowerCase();
  const changes =
    secret === undefined || order.Changes === undefined || !Object.hasOwn(order.Changes, secret.attribute)
      ? order.Changes
      : {
          ...order.Changes,
          [secret.attribute]: { hmac: passwordHmac(order.Changes[secret.attribute], secret.key) },
        };
  const content = digest(
    [
      connection,
      order.AssignedResourceTypeId,
      order.ChangeType,
      changes ?? null,
      order.WorkflowInstanceId ?? null,
    ],
    12,
  );
  const readable = `${connection}:${order.AssignedResourceTypeId}:${change}:${content}`;
  if (readable.length <= MAX_ORDER_ID_LENGTH) return readable;
  return `${connection.slice(0, 40)}:${digest(order.AssignedResourceTypeId, 16)}:${change}:${content}`;
}

/** HMAC-SHA256 under a key derived from the password key (never the key itself), hex. */
function passwordHmac(value: unknown, key: Buffer): string {
  return keyedDigest(key, 'snow-ticket order password digest', canonicalJson(value));
}

/**
 * How orders that carry a password reach the password task queue: the mappings' `Password` settings, and a
 * client whose data converter always encrypts with the active password key (undefined when no key is active).
 */
export interface PasswordRouting {
  readonly mappings: ReadonlyMap<string, { readonly Password?: PasswordMapping }>;
  readonly client?: Client;
  /** The active password key: the workflow id's digest of a password is an HMAC under a key derived from it. */
  readonly key?: Buffer;
}

/** An order carries a password, and nothing here can encrypt it: it was not started. */
export class PasswordOrderUnencryptedError extends Error {
  constructor(resourceType: string, attribute: string) {
    super(
      `The order of resource type "${resourceType}" carries a password (Changes.${attribute}), which travels only ` +
        'encrypted, on the password task queue: set an active key, TicketConnector.Encryption.ActivePasswordKey ' +
        '(or ActiveKey) (README, "Encrypted payloads"). Nothing was started',
    );
    this.name = 'PasswordOrderUnencryptedError';
  }
}

export interface StartedOrder {
  readonly workflowId: string;
  /** False when the order had been started before: the existing run was attached to, nothing new was opened. */
  readonly started: boolean;
  /** Pending orders of the same assignment that this Deleted order revoked. */
  readonly superseded: readonly string[];
}

export interface StartOptions {
  readonly taskQueue: string;
  /** Who is starting it, for the audit trail of revocations (default "Identity Manager"). */
  readonly requestedBy?: string;
  /**
   * Routes orders that carry their mapping's password attribute to the password task queue, encrypted. Without
   * it every order goes to `taskQueue`, where a worker refuses one that carries a password.
   */
  readonly passwords?: PasswordRouting;
}

/**
 * Starts one order (validated first, with field-level messages). Starting the same order twice attaches to the
 * first run: conflict policy FAIL tells us that it existed, reuse policy ALLOW_DUPLICATE_FAILED_ONLY lets an
 * order whose run failed (say on a template error, since fixed) start again under the same id, which finds any
 * ticket the failed run had opened.
 */
export async function startOrder(
  client: Client,
  value: unknown,
  options: StartOptions,
): Promise<StartedOrder> {
  const input = parseProvisioningInput(value);
  const route = passwordRoute(input, options);
  const workflowId = orderWorkflowId(input, route?.secret);
  const superseded =
    input.order.ChangeType === 'Deleted'
      ? await revokePendingGrants(client, input, workflowId, options.requestedBy ?? 'Identity Manager')
      : [];
  try {
    await (route?.client ?? client).workflow.start<typeof provisioningWorkflow>(PROVISIONING_WORKFLOW_TYPE, {
      taskQueue: route === undefined ? options.taskQueue : passwordTaskQueue(options.taskQueue),
      workflowId,
      args: [input],
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      staticSummary: `${input.order.ChangeType} ${input.order.ResourceType.Identifier} (assignment ${input.order.AssignedResourceTypeId}, connection ${input.connection})`,
    });
    return { workflowId, started: true, superseded };
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError)
      return { workflowId, started: false, superseded };
    throw error;
  }
}

/** For an order that carries a password: the encrypting client and the digest key; undefined for other orders. */
function passwordRoute(
  input: ProvisioningInput,
  options: StartOptions,
): { client: Client; secret: { attribute: string; key: Buffer } } | undefined {
  const routing = options.passwords;
  if (routing === undefined) return undefined;
  const resourceType = input.order.ResourceType.Identifier;
  const mapping = routing.mappings.get(resourceType);
  if (mapping?.Password === undefined || !carriesPassword(mapping, input.order)) return undefined;
  const { client, key } = routing;
  if (client === undefined || key === undefined || !encryptsPayloads(client)) {
    throw new PasswordOrderUnencryptedError(resourceType, mapping.Password.Attribute);
  }
  return { client, secret: { attribute: mapping.Password.Attribute, key } };
}

/**
 * A Deleted order supersedes the assignment's grants still waiting on a ticket: they are revoked (their tickets
 * canceled with a note) before the removal is ticketed. Visibility is eventually consistent, so a grant started
 * a moment before may be missed; it then completes on its own and the removal ticket follows it.
 */
async function revokePendingGrants(
  client: Client,
  input: ProvisioningInput,
  deletedOrderId: string,
  requestedBy: string,
): Promise<string[]> {
  const query =
    `WorkflowType = ${visibilityLiteral(PROVISIONING_WORKFLOW_TYPE)} AND ExecutionStatus = 'Running' ` +
    `AND AssignmentId = ${visibilityLiteral(input.order.AssignedResourceTypeId)} ` +
    `AND ConnectionId = ${visibilityLiteral(input.connection)}`;
  const revoked: string[] = [];
  for await (const execution of client.workflow.list({ query })) {
    if (execution.workflowId === deletedOrderId) continue;
    const handle = client.workflow.getHandle<typeof provisioningWorkflow>(execution.workflowId);
    const status = await handle.query(statusQuery);
    if (status.changeType === 'Deleted' || status.result !== undefined) continue;
    try {
      await handle.startUpdate(cancelUpdate, {
        args: [{ reason: `superseded by the Deleted order ${deletedOrderId}`, requestedBy }],
        waitForStage: WorkflowUpdateStage.ACCEPTED,
      });
      revoked.push(execution.workflowId);
    } catch (error) {
      // The grant ended between the query and the update: nothing is pending any more.
      if (!(error instanceof WorkflowUpdateFailedError || error instanceof WorkflowNotFoundError))
        throw error;
    }
  }
  return revoked;
}

export function orderHandle(client: Client, workflowId: string): WorkflowHandle<typeof provisioningWorkflow> {
  return client.workflow.getHandle<typeof provisioningWorkflow>(workflowId);
}
