import { z } from 'zod';
import { CHANGE_TYPES, describeIssues, type OrderKey } from '../contract/order';
import { CONNECTOR_STATES } from '../contract/states';
import type { AssignmentTicket, AssignmentTransition, AssignmentView, TransitionDetail } from './store';
import { LedgerError } from './ledgerError';
import { storedDetailSchema, storedTransitionSchema } from './transitionSchema';

/**
 * Rows as SQLite returns them, and back. What is read is checked again: the file is shared with other
 * processes and other connector versions, and may have been edited by hand.
 */

/** The order's key fields, as the text columns they are stored in. */
export interface AssignmentRow extends Readonly<Record<keyof OrderKey, string>> {
  readonly state: string;
  readonly ticketTable: string | null;
  readonly ticketNumber: string | null;
  readonly ticketSysId: string | null;
  readonly ticketState: string | null;
  readonly detail: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

function json<T extends z.ZodType>(schema: T) {
  return z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'is not valid JSON' });
        return z.NEVER;
      }
    })
    .pipe(schema);
}

const rowSchema = z.object({
  orderId: z.string(),
  assignmentId: z.string(),
  connection: z.string(),
  resourceType: z.string(),
  changeType: z.enum(CHANGE_TYPES),
  state: z.enum(CONNECTOR_STATES),
  ticketTable: z.string().nullable(),
  ticketNumber: z.string().nullable(),
  ticketSysId: z.string().nullable(),
  ticketState: z.string().nullable(),
  detail: json(storedDetailSchema).nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const storedTransition = json(storedTransitionSchema);

export function toView(row: unknown, file: string): AssignmentView {
  const parsed = rowSchema.safeParse(row);
  if (!parsed.success) {
    const order = (row as { orderId?: unknown } | undefined)?.orderId;
    throw new LedgerError(
      'corrupt',
      file,
      `the row of order ${JSON.stringify(order)} is not valid: ${describeIssues(parsed.error).join('; ')}`,
    );
  }
  const { ticketTable, ticketNumber, ticketSysId, ticketState, detail, ...rest } = parsed.data;
  const ticket: AssignmentTicket | undefined =
    ticketTable !== null && ticketNumber !== null && ticketSysId !== null
      ? {
          table: ticketTable,
          number: ticketNumber,
          sysId: ticketSysId,
          ...(ticketState !== null && { state: ticketState }),
        }
      : undefined;
  return { ...rest, ...(ticket !== undefined && { ticket }), ...(detail !== null && { detail }) };
}

export function toRow(view: AssignmentView): AssignmentRow {
  return {
    orderId: view.orderId,
    assignmentId: view.assignmentId,
    connection: view.connection,
    resourceType: view.resourceType,
    changeType: view.changeType,
    state: view.state,
    ticketTable: view.ticket?.table ?? null,
    ticketNumber: view.ticket?.number ?? null,
    ticketSysId: view.ticket?.sysId ?? null,
    ticketState: view.ticket?.state ?? null,
    detail: view.detail === undefined ? null : JSON.stringify(view.detail satisfies TransitionDetail),
    createdAt: view.createdAt,
    updatedAt: view.updatedAt,
  };
}

export function toTransition(text: unknown, orderId: string, file: string): AssignmentTransition {
  const parsed = storedTransition.safeParse(text);
  if (!parsed.success) {
    throw new LedgerError(
      'corrupt',
      file,
      `a transition of order ${JSON.stringify(orderId)} is not valid: ${describeIssues(parsed.error).join('; ')}`,
    );
  }
  return parsed.data;
}
