import { readFile } from 'node:fs/promises';
import { bounded } from '../../client/bounded';
import { Client } from '@temporalio/client';
import { startOrder, type PasswordRouting, type StartedOrder } from '../../client/provisioning';
import { resourceTypeMappings } from '../../platform/adapters';
import { passwordKeyring, passwordsDataConverter } from '../../platform/encryption';
import { messageOf, type TemporalSession } from '../../client/session';
import type { SettingsFile } from '../../config/schema';
import type { ProvisioningInput } from '../../contract/order';
import type { ProvisioningResult } from '../../contract/provisioning';
import { plural } from '../cliOutput';
import { CliError } from '../errors';
import { cliEncryption, cliErrorOf } from '../temporalClient';

/** What the order commands share: reading and describing orders, printing starts and outcomes. */

export function orderSummary(input: ProvisioningInput): string {
  const { order } = input;
  const owner = order.Owner.Identifier ?? order.Owner.Id;
  return `${order.ChangeType} ${order.ResourceType.Identifier} for ${owner}, assignment ${order.AssignedResourceTypeId}`;
}

export function invalidOrders(label: string, problems: readonly string[]): CliError {
  return new CliError(
    `Invalid orders in ${label} (${plural(problems.length, 'problem')}); nothing was started:\n` +
      problems.map((problem) => `  - ${problem}`).join('\n'),
    2,
  );
}

export async function readSource(source: string): Promise<{ label: string; text: string }> {
  if (source === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin)
      chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
    return { label: 'standard input', text: Buffer.concat(chunks).toString('utf8') };
  }
  try {
    return { label: source, text: await readFile(source, 'utf8') };
  } catch (error) {
    throw new CliError(`Cannot read the order file ${source}: ${messageOf(error)}`, 2);
  }
}

/**
 * Orders name a connection the worker's settings must define. The CLI may run where none is defined (Identity
 * Manager's host): only settings that define connections, but not this one, are worth a warning.
 */
export function warnUnknownConnections(settings: SettingsFile, connections: readonly string[]): void {
  const defined = Object.keys(settings.Connections);
  if (defined.length === 0) return;
  for (const connection of new Set(connections)) {
    if (!defined.includes(connection)) {
      console.error(
        `Warning: connection ${connection} is not defined under Connections in these settings (${defined.join(', ')}); ` +
          "the worker's settings must define it, or its orders fail.",
      );
    }
  }
}

export interface StartedJson {
  readonly workflowId: string;
  readonly started: boolean;
  readonly superseded: readonly string[];
  readonly assignmentId: string;
  readonly changeType: string;
  readonly resourceType: string;
}

export function startedJson(input: ProvisioningInput, started: StartedOrder): StartedJson {
  return {
    ...started,
    assignmentId: input.order.AssignedResourceTypeId,
    changeType: input.order.ChangeType,
    resourceType: input.order.ResourceType.Identifier,
  };
}

export function startedLines(input: ProvisioningInput, started: StartedOrder, indent = ''): string[] {
  return [
    `${indent}${(started.started ? 'started' : 'attached').padEnd(10)}${started.workflowId}  (${orderSummary(input)})`,
    ...started.superseded.map((id) => `${indent}${''.padEnd(10)}superseded ${id}`),
  ];
}

/**
 * Orders that carry their mapping's password attribute go to the password task queue through a client on the
 * same connection that always encrypts; without an active key there is no such client, and they are refused.
 */
export function passwordRouting(settings: SettingsFile, session: TemporalSession): PasswordRouting {
  const encryption = cliEncryption(settings);
  const active = passwordKeyring(encryption).active();
  const mappings = resourceTypeMappings(settings);
  if (active === undefined) return { mappings };
  const client = new Client({
    connection: session.client.connection,
    namespace: session.target.namespace,
    dataConverter: passwordsDataConverter(encryption),
  });
  return { mappings, client, key: active.key };
}

/** One start, bounded by a deadline and interrupted by the signal (its outcome is then unknown: retry it). */
export function boundedStart(
  session: TemporalSession,
  options: { timeoutMs: number; requestedBy?: string; signal?: AbortSignal; settings: SettingsFile },
): (input: ProvisioningInput) => Promise<StartedOrder> {
  const { client, target } = session;
  const passwords = passwordRouting(options.settings, session);
  return async (input) => {
    try {
      return await bounded(client, options, () =>
        startOrder(client, input, {
          taskQueue: target.taskQueue,
          requestedBy: options.requestedBy,
          passwords,
        }),
      );
    } catch (error) {
      throw new Error(messageOf(cliErrorOf(error, target)), { cause: error });
    }
  };
}

/** `Executed: ticket INC0010001 closed`, `Errored: revoked (ticket INC0010002, Canceled)`. */
export function outcomeOf(result: ProvisioningResult): string {
  const { ticket, resolution, provisioningState } = result;
  if (ticket !== undefined && resolution.startsWith('ticket-')) {
    return `${provisioningState}: ticket ${ticket.number} ${resolution.slice('ticket-'.length)}`;
  }
  const about =
    ticket === undefined
      ? 'no ticket'
      : `ticket ${ticket.number}${ticket.stateLabel === undefined ? '' : `, ${ticket.stateLabel}`}`;
  return `${provisioningState}: ${resolution.replace(/-/g, ' ')} (${about})`;
}
