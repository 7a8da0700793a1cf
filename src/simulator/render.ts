import { type TableName } from '../servicenow/tables';
import { choiceLabel } from './choices';
import type { FieldAccessor, Row, Store } from './store';

export type DisplayValueMode = 'false' | 'true' | 'all';

export interface RecordView {
  readonly displayValue: DisplayValueMode;
  readonly excludeReferenceLink: boolean;
  /** `sysparm_fields`; undefined for every dictionary field. */
  readonly fields: readonly string[] | undefined;
  /** The instance URL that reference links start with. */
  readonly baseUrl: string;
}

type Rendered = string | Readonly<Record<string, string>>;

/**
 * Renders a record as the Table API does. References are `{link, value}` by default, `{display_value, link}`
 * with display values, `{display_value, value, link}` with `all` (and `all` wraps every other field as
 * `{display_value, value}`); `sysparm_exclude_reference_link` drops the links, leaving plain strings where a
 * single value remains. An empty reference is always `""` outside `all`. Journal and password fields read back
 * as `""`: the platform never returns a password, and journal entries live in their own table.
 */
export function recordRenderer(
  store: Store,
  table: TableName,
  view: RecordView,
): (row: Row) => Record<string, Rendered> {
  const columns = (view.fields ?? store.table(table).fields).flatMap((field) => {
    const accessor = store.accessor(table, field);
    // sysparm_fields silently skips names that are not in the dictionary.
    return accessor === undefined ? [] : [{ field, accessor }];
  });
  return (row) =>
    Object.fromEntries(
      columns.map(({ field, accessor }) => [field, renderField(store, table, field, accessor, row, view)]),
    );
}

function renderField(
  store: Store,
  table: TableName,
  field: string,
  accessor: FieldAccessor,
  row: Row,
  view: RecordView,
): Rendered {
  const { kind } = accessor;
  const value = kind.type === 'journal' || kind.type === 'password' ? '' : accessor.get(row);
  if (kind.type !== 'reference') {
    const display =
      kind.type === 'integer' || kind.type === 'string' ? choiceLabel(table, field, value) : value;
    if (view.displayValue === 'all') return { display_value: display, value };
    return view.displayValue === 'true' ? display : value;
  }
  if (value === '') return view.displayValue === 'all' ? { display_value: '', value: '' } : '';
  const link = `${view.baseUrl}/api/now/table/${kind.table}/${value}`;
  const display = () => store.displayValue(kind.table, value);
  switch (view.displayValue) {
    case 'false':
      return view.excludeReferenceLink ? value : { link, value };
    case 'true':
      return view.excludeReferenceLink ? display() : { display_value: display(), link };
    case 'all':
      return view.excludeReferenceLink
        ? { display_value: display(), value }
        : { display_value: display(), value, link };
  }
}
