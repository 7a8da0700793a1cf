import type { TableName } from '../servicenow/tables';
import { aclDenied, type AclOperation } from './apiErrors';
import type { Store } from './store';

/**
 * A deliberately small slice of ServiceNow's ACLs: reading is open to every authenticated user, writing needs one
 * of these roles, granted directly through sys_user_has_role. Writing sys_user (passwords included) is therefore
 * limited to user administrators, as on a real instance.
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
