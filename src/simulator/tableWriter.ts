import { fieldKind, isSysId, type TableName } from '../servicenow/tables';
import { assertCanWrite, writableValues } from './acl';
import { ApiError, recordNotFound } from './apiErrors';
import { passwordDigest, type AuthenticatedUser } from './auth';
import { assertPasswordPolicy } from './passwordPolicy';
import { applyBusinessRules, newRecord, type RuleContext } from './businessRules';
import { formatDateTime, type JournalEntry, type RecordValues, type Row, type Store } from './store';

export interface Writer {
  readonly user: AuthenticatedUser;
  /** `sysparm_input_display_value=true`: the only way a written password becomes usable. */
  readonly inputDisplayValue: boolean;
  /** False for writes the platform makes itself (catalog orders, the operator's ticket actions). */
  readonly checkAcl: boolean;
}

/** Fields the platform maintains itself; values sent for them are ignored like unknown fields. */
const SYSTEM_FIELDS: ReadonlySet<string> = new Set([
  'sys_id',
  'sys_created_on',
  'sys_created_by',
  'sys_updated_on',
  'sys_updated_by',
  'sys_mod_count',
  'sys_class_name',
]);

interface CoercedBody {
  readonly values: RecordValues;
  readonly journal: readonly JournalEntry[];
}

/**
 * Every Table API write goes through here, and so do catalog orders and the operator's ticket actions: the
 * same coercion, ACL, business rules, system fields and change notification.
 */
export class TableWriter {
  constructor(
    private readonly store: Store,
    private readonly now: () => Date,
    private readonly onChange: (table: TableName, row: Row) => void,
  ) {}

  insert(table: TableName, body: Readonly<Record<string, unknown>>, writer: Writer): Row {
    if (writer.checkAcl) assertCanWrite(this.store, table, writer.user.sysId, 'Insert');
    const context = this.context(writer);
    const requestedSysId = typeof body.sys_id === 'string' ? body.sys_id : '';
    if (isSysId(requestedSysId) && this.store.table(table).get(requestedSysId) !== undefined) {
      throw new ApiError(403, 'Operation Failed', `Error during insert of ${table} (${requestedSysId})`);
    }
    const { values, journal } = this.coerce(table, body, writer, context);
    const before = newRecord(table, context);
    const after = { ...before, ...values };
    applyBusinessRules(table, before, after, context);
    const row = this.store
      .table(table)
      .insert({ ...after, sys_id: requestedSysId }, this.stamp(writer, context));
    this.store.appendJournal(this.store.table(table).read(row, 'sys_id'), journal);
    this.onChange(table, row);
    return row;
  }

  /**
   * Applies the fields sent (PUT and PATCH alike). An update that changes nothing is not written, as on the
   * platform: no new `sys_mod_count`, no business rules, no notification.
   */
  update(table: TableName, sysId: string, body: Readonly<Record<string, unknown>>, writer: Writer): Row {
    const tableStore = this.store.table(table);
    const row = tableStore.get(sysId);
    if (row === undefined) throw recordNotFound();
    const allowed = writer.checkAcl
      ? writableValues(this.store, table, sysId, writer.user.sysId, body)
      : body;
    const context = this.context(writer);
    const { values, journal } = this.coerce(table, allowed, writer, context);
    const before = tableStore.toValues(row);
    if (journal.length === 0 && Object.entries(values).every(([field, value]) => before[field] === value)) {
      return row;
    }
    const after = { ...before, ...values };
    applyBusinessRules(table, before, after, context);
    tableStore.update(row, after, this.stamp(writer, context));
    this.store.appendJournal(sysId, journal);
    this.onChange(table, row);
    return row;
  }

  delete(table: TableName, sysId: string, writer: Writer): void {
    if (this.store.table(table).get(sysId) === undefined) throw recordNotFound();
    if (writer.checkAcl) assertCanWrite(this.store, table, writer.user.sysId, 'Delete');
    this.store.table(table).delete(sysId);
    this.store.forgetJournal(sysId);
  }

  private context(writer: Writer): RuleContext {
    return { now: formatDateTime(this.now()), userSysId: writer.user.sysId };
  }

  private stamp(writer: Writer, context: RuleContext) {
    return { on: context.now, by: writer.user.userName };
  }

  /** Keeps dictionary fields only, as strings; journal fields become journal entries. */
  private coerce(
    table: TableName,
    body: Readonly<Record<string, unknown>>,
    writer: Writer,
    context: RuleContext,
  ): CoercedBody {
    const values: RecordValues = {};
    const journal: JournalEntry[] = [];
    for (const [field, raw] of Object.entries(body)) {
      const kind = fieldKind(table, field);
      const text = asText(raw);
      if (kind === undefined || text === undefined || SYSTEM_FIELDS.has(field)) continue;
      switch (kind.type) {
        case 'journal':
          if (text.trim() !== '') {
            journal.push({ field, value: text, created_on: context.now, created_by: writer.user.userName });
          }
          break;
        case 'password':
          // Without sysparm_input_display_value the platform stores the text as if it were already encrypted,
          // so logging in with it fails. The simulator stores it as given, which no login digest can equal.
          // Only a usable password is held to the policy, as on the platform (the other is never a login).
          if (writer.inputDisplayValue && text !== '') assertPasswordPolicy(text);
          values[field] = writer.inputDisplayValue && text !== '' ? passwordDigest(text) : text;
          break;
        case 'reference':
          values[field] = this.referenceValue(kind.table, text);
          break;
        case 'boolean':
          values[field] = ['true', '1'].includes(text.toLowerCase()) ? 'true' : 'false';
          break;
        case 'string':
          values[field] = kind.maxLength === undefined ? text : text.slice(0, kind.maxLength);
          break;
        default:
          values[field] = text;
      }
    }
    return { values, journal };
  }

  /** A sys_id, or a display value the platform resolves to one (a name it cannot resolve is kept as written). */
  private referenceValue(table: TableName, text: string): string {
    if (text === '' || isSysId(text)) return text;
    const row = this.store.findByDisplayValue(table, text);
    return row === undefined ? text : this.store.table(table).read(row, 'sys_id');
  }
}

function asText(raw: unknown): string | undefined {
  if (typeof raw === 'string') return raw;
  if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
  if (raw === null) return '';
  return undefined;
}
