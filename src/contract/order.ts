import { z } from 'zod';
import { MAX_CONNECTION_LENGTH, MAX_ID_LENGTH, MAX_ORDER_BYTES, utf8Length } from './limits';

/**
 * Identity Manager's provisioning order, the unit of work, as it writes it to order files. Identity Manager
 * adds attributes of its own to every object, so objects are loose: unknown keys are kept and passed to the
 * ticket templates. Ids may be numbers or strings; they are carried as strings.
 *
 * This module is imported by workflow code: no Node built-ins, no I/O.
 */

export const CHANGE_TYPES = ['Added', 'Modified', 'Deleted'] as const;
export type ChangeType = (typeof CHANGE_TYPES)[number];

const id = (what: string) =>
  z
    .union([z.string(), z.number()], { error: `must be a string or a number (${what})` })
    .transform((value) => String(value).trim())
    .pipe(
      z
        .string()
        .min(1, `must not be empty (${what})`)
        .max(MAX_ID_LENGTH, `must be at most ${MAX_ID_LENGTH} characters (${what})`),
    );

const entityType = z.looseObject({
  Id: id('the entity type id').optional(),
  Identifier: z.string().optional(),
});

const attributes = z.record(z.string(), z.unknown(), { error: 'must be an object of attribute values' });

export const provisioningOrderSchema = z.looseObject({
  AssignedResourceTypeId: id('the id of the entitlement assignment'),
  ChangeType: z.enum(CHANGE_TYPES, { error: 'must be "Added", "Modified" or "Deleted"' }),
  Owner: z.looseObject(
    {
      Id: id('the owner identity id'),
      Identifier: z.string().optional(),
      InternalDisplayName: z.string().optional(),
    },
    { error: 'must be an object describing the identity (Id, Identifier, InternalDisplayName)' },
  ),
  ResourceType: z.looseObject(
    {
      Id: id('the resource type id').optional(),
      Identifier: z
        .string({
          error: 'must be a string (the resource type identifier, which selects the ticket mapping)',
        })
        .trim()
        .min(1, 'must not be empty (the resource type identifier selects the ticket mapping)'),
      SourceEntityType: entityType.optional(),
      TargetEntityType: entityType.optional(),
    },
    { error: 'must be an object with the resource type Identifier' },
  ),
  Changes: attributes.optional(),
  Resource: attributes.optional(),
  WorkflowInstanceId: id('the Identity Manager workflow instance').optional(),
});

export type ProvisioningOrder = z.output<typeof provisioningOrderSchema>;

/**
 * What names an order wherever it is reported: its results and statuses, the assignment transitions it records
 * and the messages Identity Manager receives all carry these fields.
 */
export interface OrderKey {
  /** The workflow id, which is also the ticket's correlation id. */
  readonly orderId: string;
  readonly assignmentId: string;
  readonly connection: string;
  readonly resourceType: string;
  readonly changeType: ChangeType;
}

export const CONNECTION_IDENTIFIER = /^[A-Za-z][A-Za-z0-9.-]*$/;

/**
 * The workflow's input as the first release accepted it. Runs started then replay against it: a limit added
 * later is checked by {@link orderLimitProblems}, which the workflow applies to new runs only (behind a patch).
 */
export const provisioningInputShape = z.strictObject({
  connection: z
    .string({ error: 'must be a string (the connection identifier under Connections)' })
    .regex(
      CONNECTION_IDENTIFIER,
      'must be a connection identifier (a letter, then letters, digits, "." or "-")',
    ),
  order: provisioningOrderSchema,
});

export type ProvisioningInput = z.output<typeof provisioningInputShape>;

export interface OrderProblem {
  /** Where, as a path into the input (`['order', 'ResourceType', 'Identifier']`); empty for the whole input. */
  readonly path: readonly string[];
  readonly message: string;
}

/**
 * The limits of {@link MAX_ID_LENGTH} and friends that the first schema did not enforce. Checked once, on
 * arrival, so that nothing the order carries is refused later by a search attribute, a store or Temporal's
 * payload limit.
 */
export function orderLimitIssues(input: ProvisioningInput): OrderProblem[] {
  const problems: OrderProblem[] = [];
  if (input.connection.length > MAX_CONNECTION_LENGTH) {
    problems.push({ path: ['connection'], message: `must be at most ${MAX_CONNECTION_LENGTH} characters` });
  }
  const resourceType = input.order.ResourceType;
  if (resourceType.Identifier.length > MAX_ID_LENGTH) {
    problems.push({
      path: ['order', 'ResourceType', 'Identifier'],
      message: `must be at most ${MAX_ID_LENGTH} characters`,
    });
  }
  for (const side of ['SourceEntityType', 'TargetEntityType'] as const) {
    const identifier = resourceType[side]?.Identifier;
    if (identifier !== undefined && identifier.length > MAX_ID_LENGTH) {
      problems.push({
        path: ['order', 'ResourceType', side, 'Identifier'],
        message: `must be at most ${MAX_ID_LENGTH} characters`,
      });
    }
  }
  const bytes = utf8Length(JSON.stringify(input));
  if (bytes > MAX_ORDER_BYTES) {
    problems.push({
      path: [],
      message: `the order is ${bytes} bytes of JSON; at most ${MAX_ORDER_BYTES} are accepted`,
    });
  }
  return problems;
}

/**
 * `.` and `..` are no ids: written into a URL path (Identity Manager's `{assignmentId}` and `{orderId}`), they
 * address another resource, so the store refuses them and the order could never be recorded.
 */
function isDotSegment(id: string): boolean {
  return id === '.' || id === '..';
}

const DOT_SEGMENT_MESSAGE = 'must not be "." or "..", which address another path in a URL';

/** The ids checked by {@link isDotSegment} since the third release; the workflow id is checked by the workflow. */
export function dotSegmentIdIssues(input: ProvisioningInput): OrderProblem[] {
  return isDotSegment(input.order.AssignedResourceTypeId)
    ? [{ path: ['order', 'AssignedResourceTypeId'], message: DOT_SEGMENT_MESSAGE }]
    : [];
}

/** The workflow id, as it would be reported among an order's problems. */
export function workflowIdProblems(workflowId: string): string[] {
  return isDotSegment(workflowId) ? [`workflow id: ${DOT_SEGMENT_MESSAGE}`] : [];
}

/** {@link orderLimitIssues} as field-level messages, e.g. `connection: must be at most 64 characters`. */
export function orderLimitProblems(input: ProvisioningInput): string[] {
  return problemTexts(orderLimitIssues(input));
}

/** {@link dotSegmentIdIssues} as field-level messages. */
export function dotSegmentIdProblems(input: ProvisioningInput): string[] {
  return problemTexts(dotSegmentIdIssues(input));
}

function problemTexts(problems: readonly OrderProblem[]): string[] {
  return problems.map(({ path, message }) => `${path.length === 0 ? '(input)' : path.join('.')}: ${message}`);
}

/** The workflow's input: plain JSON that any Temporal client can send, with every limit checked. */
export const provisioningInputSchema = provisioningInputShape.superRefine((input, context) => {
  for (const { path, message } of [...orderLimitIssues(input), ...dotSegmentIdIssues(input)]) {
    context.addIssue({ code: 'custom', message, path: [...path] });
  }
});

/** Field-level messages, e.g. `order.ChangeType: must be "Added", "Modified" or "Deleted"`. */
export function describeIssues(error: z.ZodError, prefix = ''): string[] {
  return error.issues.map((issue) => {
    const where = [prefix, ...issue.path.map(String)].filter((part) => part !== '').join('.');
    return `${where === '' ? '(input)' : where}: ${issue.message}`;
  });
}

export class InvalidOrderError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid provisioning order: ${problems.join('; ')}`);
    this.name = 'InvalidOrderError';
  }
}

export function parseProvisioningInput(value: unknown): ProvisioningInput {
  const parsed = provisioningInputSchema.safeParse(value);
  if (!parsed.success) throw new InvalidOrderError(describeIssues(parsed.error));
  return parsed.data;
}
