import type { TableName } from '../servicenow/tables';
import { aclDenied, type AclOperation } from './apiErrors';
import type { Store } from './store';

/**
 * A deliberately small slice of ServiceNow's ACLs: reading is open to every authenticated user, writing needs one
 * of these roles, granted directly through sys_user_has_role. Writing sys_user (passwords included) is therefore
 * limited to user administrators, as on a real instance. Any user may also update their own sys_user record
 * (the self-service profile), where fields that only user administrators may write are silently left as they
 * were: the platform's field-level ACLs skip such fields and answer 200 all the same.
 */
const WRITE_ROLES: Readonly<Record<TableName, readonly string[]>> = {
  incident: ['itil', 'admin'],
  sc_request: ['itil', 'admin'],
  sc_req_item: ['itil', 'admin'],
  sc_task: ['itil', 'admin'],
  sc_cat_item: ['admin'],
  sys_user: ['user_admin', 'admin'],
  sys_user_group: ['user_admin', 'admin'],
  sys_user_grmember: ['user_admin', 'admin'],
  sys_user_role: ['admin'],
  sys_user_has_role: ['user_admin', 'admin'],
};

function rolesOf(store: Store, userSysId: string): Set<string> {
  const grants = store.table('sys_user_has_role');
  const roles = store.table('sys_user_role');
  const names = new Set<string>();
  for (const grant of grants.findBy('user', userSysId)) {
    if (grants.read(grant, 'state') !== 'active') continue;
    const role = roles.get(grants.read(grant, 'role'));
    if (role !== undefined) names.add(roles.read(role, 'name'));
  }
  return names;
}

export function assertCanWrite(
  store: Store,
  table: TableName,
  userSysId: string,
  operation: AclOperation,
): void {
  const roles = rolesOf(store, userSysId);
  if (!WRITE_ROLES[table].some((role) => roles.has(role))) throw aclDenied(operation);
}

/** sys_user fields only user administrators may write, even on their own record. */
const PROTECTED_USER_FIELDS: ReadonlySet<string> = new Set([
  'user_password',
  'password_needs_reset',
  'active',
  'locked_out',
  'user_name',
]);

const USER_ADMIN_ROLES = ['user_admin', 'admin'];

/**
 * The fields of `values` this writer may write on `sysId` of `table`: all of them when the table ACL allows
 * the write; on their own sys_user record, a user without it writes all but the protected fields; otherwise
 * the table ACL refuses (403).
 */
export function writableValues<T extends Readonly<Record<string, unknown>>>(
  store: Store,
  table: TableName,
  sysId: string,
  userSysId: string,
  values: T,
): Partial<T> {
  const roles = rolesOf(store, userSysId);
  if (WRITE_ROLES[table].some((role) => roles.has(role))) return values;
  if (table !== 'sys_user' || sysId !== userSysId || USER_ADMIN_ROLES.some((role) => roles.has(role))) {
    throw aclDenied('Update');
  }
  return Object.fromEntries(
    Object.entries(values).filter(([field]) => !PROTECTED_USER_FIELDS.has(field)),
  ) as Partial<T>;
}
