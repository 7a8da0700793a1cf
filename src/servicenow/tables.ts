/**
 * The part of the ServiceNow data dictionary the connector touches. The client uses it as the allow-list of
 * field names for queries and `sysparm_fields`; the simulator uses it as its schema.
 */

export const TABLE_NAMES = [
  'incident',
  'sc_request',
  'sc_req_item',
  'sc_task',
  'sc_cat_item',
  'sys_user',
  'sys_user_group',
  'sys_user_grmember',
  'sys_user_role',
  'sys_user_has_role',
] as const;

export type TableName = (typeof TABLE_NAMES)[number];

export type FieldKind =
  /** ServiceNow silently truncates a longer value to `maxLength` (the dictionary's max length). */
  | { readonly type: 'string'; readonly maxLength?: number }
  | { readonly type: 'integer' }
  | { readonly type: 'boolean' }
  | { readonly type: 'datetime' }
  | { readonly type: 'reference'; readonly table: TableName }
  /** Work notes and comments: written as text, appended to the journal, read back empty from the Table API. */
  | { readonly type: 'journal' }
  /** Stored only when written with `sysparm_input_display_value=true`; never read back. */
  | { readonly type: 'password' };

const string = { type: 'string' } as const;
const correlation = { type: 'string', maxLength: 100 } as const;
const integer = { type: 'integer' } as const;
const boolean = { type: 'boolean' } as const;
const datetime = { type: 'datetime' } as const;
const journal = { type: 'journal' } as const;
const reference = <T extends TableName>(table: T) => ({ type: 'reference', table }) as const;

const system = {
  sys_id: string,
  sys_created_on: datetime,
  sys_created_by: string,
  sys_updated_on: datetime,
  sys_updated_by: string,
  sys_mod_count: integer,
} as const;

const task = {
  ...system,
  sys_class_name: string,
  number: string,
  state: integer,
  active: boolean,
  short_description: string,
  description: string,
  opened_at: datetime,
  opened_by: reference('sys_user'),
  assigned_to: reference('sys_user'),
  assignment_group: reference('sys_user_group'),
  impact: integer,
  urgency: integer,
  priority: integer,
  correlation_id: correlation,
  correlation_display: correlation,
  work_notes: journal,
  comments: journal,
  close_notes: string,
  closed_at: datetime,
  closed_by: reference('sys_user'),
  approval: string,
} as const;

export const TABLES = {
  incident: {
    ...task,
    caller_id: reference('sys_user'),
    category: string,
    subcategory: string,
    close_code: string,
    resolved_at: datetime,
    resolved_by: reference('sys_user'),
  },
  sc_request: {
    ...task,
    requested_for: reference('sys_user'),
    request_state: string,
  },
  sc_req_item: {
    ...task,
    request: reference('sc_request'),
    cat_item: reference('sc_cat_item'),
    requested_for: reference('sys_user'),
    quantity: integer,
  },
  sc_task: {
    ...task,
    request: reference('sc_request'),
    request_item: reference('sc_req_item'),
  },
  sc_cat_item: {
    ...system,
    name: string,
    short_description: string,
    active: boolean,
  },
  sys_user: {
    ...system,
    user_name: string,
    first_name: string,
    last_name: string,
    name: string,
    email: string,
    title: string,
    department: string,
    employee_number: string,
    manager: reference('sys_user'),
    active: boolean,
    locked_out: boolean,
    user_password: { type: 'password' },
    password_needs_reset: boolean,
    last_login_time: datetime,
  },
  sys_user_group: {
    ...system,
    name: string,
    description: string,
    email: string,
    manager: reference('sys_user'),
    parent: reference('sys_user_group'),
    type: string,
    active: boolean,
  },
  sys_user_grmember: {
    ...system,
    user: reference('sys_user'),
    group: reference('sys_user_group'),
  },
  sys_user_role: {
    ...system,
    name: string,
    description: string,
    elevated_privilege: boolean,
  },
  sys_user_has_role: {
    ...system,
    user: reference('sys_user'),
    role: reference('sys_user_role'),
    inherited: boolean,
    granted_by: reference('sys_user_group'),
    state: string,
  },
} as const satisfies Record<TableName, Record<string, FieldKind>>;

export const IDENTITY_TABLES = [
  'sys_user',
  'sys_user_group',
  'sys_user_grmember',
  'sys_user_role',
  'sys_user_has_role',
] as const satisfies readonly TableName[];

export { CatalogTaskState, IncidentState, isSysId, RequestState, TICKET_TABLES } from '../contract/tickets';
export type { TicketTable } from '../contract/tickets';

/** Ticket number prefixes, as the platform numbers records (`INC0010001`). */
export const NUMBER_PREFIX: Partial<Record<TableName, string>> = {
  incident: 'INC',
  sc_request: 'REQ',
  sc_req_item: 'RITM',
  sc_task: 'SCTASK',
};

export function isTableName(name: string): name is TableName {
  return (TABLE_NAMES as readonly string[]).includes(name);
}

export function fieldsOf(table: TableName): readonly string[] {
  return Object.keys(TABLES[table]);
}

export function fieldKind(table: TableName, field: string): FieldKind | undefined {
  const fields: Readonly<Record<string, FieldKind>> = TABLES[table];
  return Object.hasOwn(fields, field) ? fields[field] : undefined;
}

/** impact / urgency codes */
export const Severity = { High: '1', Medium: '2', Low: '3' } as const;
