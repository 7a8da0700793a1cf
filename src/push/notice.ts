import { z } from 'zod';
import { describeIssues, workflowIdProblems } from '../contract/order';
import { MAX_ORDER_ID_LENGTH } from '../contract/limits';
import { isSysId, TICKET_TABLES, type TicketTable } from '../contract/tickets';

/**
 * A ticket-change notice as the business rule posts it (deploy/servicenow/): `{table, sys_id, number,
 * sys_mod_count, correlation_id?}`, values as strings the way ServiceNow serialises a record. A whole record
 * (the Table API's JSON of the ticket) is accepted too: its other fields are dropped unread.
 */
export interface TicketChangeNotice {
  readonly table: TicketTable;
  readonly sysId: string;
  readonly number: string;
  readonly sysModCount: number;
  /** The order id the ticket carries, when the sender included it. */
  readonly correlationId?: string;
}

/** Ticket numbers such as INC0010001 or a customised prefix; they go into a visibility query (escaped). */
const TICKET_NUMBER = /^[A-Za-z0-9_.-]{1,40}$/;

/** A string field; a missing one is reported as missing rather than as "not a string". */
const text = () =>
  z.string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') });

const WHOLE_NUMBER = 'must be a whole number (ServiceNow sends it as a string)';

// Other fields (a whole record's) are dropped unread.
const noticeSchema = z.object({
  table: z.enum(TICKET_TABLES, { error: `must be one of ${TICKET_TABLES.join(', ')}` }),
  sys_id: text().refine(isSysId, 'must be 32 lowercase hex characters'),
  number: text().regex(TICKET_NUMBER, 'must be a ticket number such as INC0010001'),
  sys_mod_count: z
    .union([z.string(), z.number()], { error: WHOLE_NUMBER })
    .refine(
      (count) =>
        typeof count === 'number' ? Number.isSafeInteger(count) && count >= 0 : /^\d{1,15}$/.test(count),
      WHOLE_NUMBER,
    )
    .transform(Number),
  // An empty field is serialised as "": no correlation id.
  correlation_id: text()
    .max(MAX_ORDER_ID_LENGTH, `must be at most ${MAX_ORDER_ID_LENGTH} characters (an order id)`)
    .refine((id) => workflowIdProblems(id).length === 0, 'must not be "." or ".."')
    .optional(),
});

export type NoticeCheck =
  | { readonly ok: true; readonly notice: TicketChangeNotice }
  | { readonly ok: false; readonly problems: string[] };

/** Parses and checks a verified body; problems name fields, never repeat their values. */
export function parseNotice(body: Buffer): NoticeCheck {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return { ok: false, problems: ['the body is not valid JSON'] };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { ok: false, problems: ['the body must be a JSON object'] };
  }
  const parsed = noticeSchema.safeParse(json);
  if (!parsed.success) return { ok: false, problems: describeIssues(parsed.error) };
  const { table, sys_id, number, sys_mod_count, correlation_id } = parsed.data;
  return {
    ok: true,
    notice: {
      table,
      sysId: sys_id,
      number,
      sysModCount: sys_mod_count,
      ...(correlation_id === undefined || correlation_id === '' ? {} : { correlationId: correlation_id }),
    },
  };
}
