import { type TableName } from '../servicenow/tables';
import { passwordDigest, passwordMatches } from './auth';
import { newRecord } from './businessRules';
import type { RecordValues, Stamp, Store } from './store';

/** The admin user's sys_id on every ServiceNow instance, kept so that links look familiar. */
export const ADMIN_USER_SYS_ID = '6816f79cc0a8016401c5a33be04be441';

/** Roles present at startup, with stable sys_ids. */
export const SEEDED_ROLES = {
  admin: '2831a114c611228501d4ea6c309d626d',
  itil: '282bf1fac6112285017366cb5f867469',
  user_admin: 'd8c2a4b1c0a8016400b5e3f7a9d21c40',
} as const;

/** The active catalog item "Access request", orderable with `order_now` from startup. */
export const ACCESS_REQUEST_ITEM_SYS_ID = '3f1dd0f2c0a8016400c9b6a1e5f2a7d0';

export interface AdminAccount {
  readonly login: string;
  readonly password: string;
}

/** What a fresh instance holds: the admin user with the admin role, the seeded roles and the catalog item. */
export function seedBaseline(store: Store, admin: AdminAccount, stamp: Stamp): void {
  const insert = (table: TableName, values: RecordValues) =>
    store.table(table).insert({ ...defaultsOf(table, stamp), ...values }, stamp);
  insert('sys_user', adminUser(admin));
  for (const [name, sysId] of Object.entries(SEEDED_ROLES)) {
    insert('sys_user_role', { sys_id: sysId, name, elevated_privilege: String(name === 'admin') });
  }
  insert('sys_user_has_role', { user: ADMIN_USER_SYS_ID, role: SEEDED_ROLES.admin });
  insert('sc_cat_item', {
    sys_id: ACCESS_REQUEST_ITEM_SYS_ID,
    name: 'Access request',
    short_description: 'Request access to an application without an automated connector',
  });
}

/**
 * Gives the admin user the login and password of this start, after a saved state was loaded: the password
 * may differ from the saved one (it is generated when not given), and the operator must be able to log in.
 * A deleted admin user is created again; everything else about it (roles, lock) stays as saved.
 */
export function applyAdminAccount(store: Store, admin: AdminAccount, stamp: Stamp): void {
  const users = store.table('sys_user');
  const row = users.get(ADMIN_USER_SYS_ID);
  if (row === undefined) {
    users.insert({ ...defaultsOf('sys_user', stamp), ...adminUser(admin) }, stamp);
    return;
  }
  // Digests are salted: the saved one is kept when it already opens with this start's password.
  const sameLogin =
    users.read(row, 'user_name') === admin.login &&
    passwordMatches(admin.password, users.read(row, 'user_password'));
  if (!sameLogin) {
    users.update(row, { user_name: admin.login, user_password: passwordDigest(admin.password) }, stamp);
  }
}

function adminUser(admin: AdminAccount): RecordValues {
  return {
    sys_id: ADMIN_USER_SYS_ID,
    user_name: admin.login,
    first_name: 'System',
    last_name: 'Administrator',
    name: 'System Administrator',
    email: 'admin@example.com',
    user_password: passwordDigest(admin.password),
  };
}

function defaultsOf(table: TableName, stamp: Stamp): RecordValues {
  return newRecord(table, { now: stamp.on, userSysId: ADMIN_USER_SYS_ID });
}

export interface DirectorySize {
  readonly users: number;
  readonly groups: number;
  /** Distinct groups per user, capped by the number of groups seeded in the same call. */
  readonly membershipsPerUser: number;
  /** Roles to create; each seeded user is granted one of them in turn. */
  readonly roles: number;
}

export interface SeededCounts {
  readonly users: number;
  readonly groups: number;
  readonly memberships: number;
  readonly roles: number;
  readonly roleGrants: number;
}

const FIRST_NAMES = ['Abel', 'Beth', 'Carlos', 'Dana', 'Elif', 'Femi', 'Grace', 'Hiro', 'Ines', 'Jonas'];
const LAST_NAMES = [
  'Tuter',
  'Anglin',
  'Okafor',
  'Novak',
  'Yilmaz',
  'Haddad',
  'Ito',
  'Moreau',
  'Silva',
  'Berg',
];

/**
 * Bulk directory data for exports and benchmarks. Inserts straight into the store (identity tables have no
 * business rules and send no notifications), sharing one stamp and one default record so a million
 * memberships stay cheap. Numbering continues across calls so that seeding twice adds new users.
 */
export class DirectorySeeder {
  /** `batches` already seeded, when continuing a saved state. */
  constructor(private seeded = 0) {}

  get batches(): number {
    return this.seeded;
  }

  seed(store: Store, size: DirectorySize, stamp: Stamp): SeededCounts {
    const batch = ++this.seeded;
    const pad = (n: number, width: number) => String(n).padStart(width, '0');
    const defaults = (table: TableName) => defaultsOf(table, stamp);

    const insert = (table: TableName, values: RecordValues) =>
      store.table(table).read(store.table(table).insert(values, stamp), 'sys_id');

    const groupDefaults = defaults('sys_user_group');
    const groups = Array.from({ length: size.groups }, (_, i) => {
      const name = `Sim Group ${batch}-${pad(i + 1, 6)}`;
      return insert('sys_user_group', { ...groupDefaults, name, description: name });
    });
    const roleDefaults = defaults('sys_user_role');
    const roles = Array.from({ length: size.roles }, (_, i) =>
      insert('sys_user_role', { ...roleDefaults, name: `sim_role_${batch}_${pad(i + 1, 4)}` }),
    );

    const userDefaults = defaults('sys_user');
    const grantDefaults = defaults('sys_user_has_role');
    const perUser = Math.min(size.membershipsPerUser, groups.length);
    for (let i = 0; i < size.users; i++) {
      const first = FIRST_NAMES[i % FIRST_NAMES.length] ?? '';
      const last = LAST_NAMES[Math.floor(i / FIRST_NAMES.length) % LAST_NAMES.length] ?? '';
      const id = `${batch}${pad(i + 1, 6)}`;
      const user = insert('sys_user', {
        ...userDefaults,
        user_name: `sim.user${id}`,
        first_name: first,
        last_name: last,
        name: `${first} ${last}`,
        email: `sim.user${id}@example.com`,
        employee_number: id,
      });
      // Consecutive users take consecutive runs of groups: distinct for each user, spread evenly over groups.
      for (let j = 0; j < perUser; j++) {
        insert('sys_user_grmember', { user, group: groups[(i * perUser + j) % groups.length] ?? '' });
      }
      if (roles.length > 0) {
        insert('sys_user_has_role', { ...grantDefaults, user, role: roles[i % roles.length] ?? '' });
      }
    }
    return {
      users: size.users,
      groups: groups.length,
      memberships: size.users * perUser,
      roles: roles.length,
      roleGrants: roles.length > 0 ? size.users : 0,
    };
  }
}
