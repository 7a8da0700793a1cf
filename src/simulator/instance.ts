import { TICKET_TABLES, type TableName } from '../servicenow/tables';
import { ApiError } from './apiErrors';
import { TASK_TABLES, type TaskTable } from './businessRules';
import { Authenticator, isPasswordDigest, type OAuthClient } from './auth';
import { choiceLabel } from './choices';
import { ConcurrencyGate, FaultInjector, RateLimiter, type Faults } from './limits';
import { Notifier, type NotificationStats, type NotifyOptions } from './notifications';
import { Prng } from './random';
import {
  applyAdminAccount,
  DirectorySeeder,
  seedBaseline,
  type AdminAccount,
  type DirectorySize,
  type SeededCounts,
} from './seed';
import { readStateFile, restoreState, serializeState } from './stateFile';
import { RequestStats } from './stats';
import { formatDateTime, Store, type JournalEntry, type RecordValues, type Row, type Stamp } from './store';
import { actionChanges, type TicketActionRequest } from './ticketActions';
import { TableWriter } from './tableWriter';

export interface InstanceSettings {
  readonly now: () => Date;
  readonly admin: AdminAccount;
  readonly oauth: OAuthClient;
  readonly requestsPerHour: number | undefined;
  readonly maxConcurrent: number | undefined;
  readonly faults: Faults;
  readonly notify: NotifyOptions | undefined;
  readonly randomSeed: number;
}

export type TicketStateFilter = 'open' | 'closed' | 'all';

export interface TicketSummary {
  readonly number: string;
  readonly table: TaskTable;
  readonly sys_id: string;
  readonly state: string;
  readonly state_label: string;
  readonly active: string;
  readonly short_description: string;
  readonly correlation_id: string;
  readonly sys_updated_on: string;
  readonly sys_mod_count: string;
}

/** What an operator may see of a user's login: never the digest, only whether a usable password is set. */
export interface UserLogin {
  readonly sys_id: string;
  readonly user_name: string;
  readonly active: string;
  readonly locked_out: string;
  readonly password_needs_reset: string;
  /** A usable password (written with sysparm_input_display_value=true) is stored. */
  readonly password_set: boolean;
}

export interface TicketDetail {
  readonly table: TaskTable;
  readonly record: RecordValues;
  readonly journal: readonly JournalEntry[];
}

/** Everything one simulated ServiceNow instance knows, independent of HTTP. */
export class SimulatedInstance {
  readonly store = new Store();
  readonly auth: Authenticator;
  readonly writer: TableWriter;
  readonly faults: FaultInjector;
  readonly rateLimiter: RateLimiter | undefined;
  readonly concurrency: ConcurrencyGate | undefined;
  readonly stats = new RequestStats();
  /** While true every instance URL answers the HTML page of a hibernating developer instance. */
  hibernating = false;
  private readonly notifier: Notifier | undefined;
  private seeder = new DirectorySeeder();

  constructor(private readonly settings: InstanceSettings) {
    this.auth = new Authenticator(this.store, settings.oauth, settings.now);
    this.writer = new TableWriter(this.store, settings.now, (table, row) => this.changed(table, row));
    // Separate streams, so that seeding or notifying never shifts which requests a fault hits.
    this.faults = new FaultInjector(settings.faults, settings.randomSeed);
    this.notifier =
      settings.notify && new Notifier(settings.notify, new Prng(settings.randomSeed ^ 0x9e3779b9));
    this.rateLimiter =
      settings.requestsPerHour === undefined
        ? undefined
        : new RateLimiter(settings.requestsPerHour, settings.now);
    this.concurrency =
      settings.maxConcurrent === undefined ? undefined : new ConcurrencyGate(settings.maxConcurrent);
    seedBaseline(this.store, settings.admin, this.stamp());
  }

  /** Back to the state at startup: baseline data only, no tokens, no counters, startup faults, awake. */
  reset(): void {
    this.store.clear();
    seedBaseline(this.store, this.settings.admin, this.stamp());
    this.seeder = new DirectorySeeder();
    this.auth.clear();
    this.stats.reset();
    this.rateLimiter?.reset();
    this.faults.reset();
    this.hibernating = false;
  }

  /**
   * Continues from the state saved in `file` (see stateFile.ts), keeping this start's admin login. False, and
   * nothing changed, when the file does not exist; StateFileError when it cannot be used.
   */
  loadState(file: string): boolean {
    const state = readStateFile(file);
    if (state === undefined) return false;
    restoreState(this.store, state, file);
    this.seeder = new DirectorySeeder(state.directoryBatches);
    applyAdminAccount(this.store, this.settings.admin, this.stamp());
    return true;
  }

  /** Everything `loadState` restores, as the chunks of a state file. */
  stateSnapshot(): string[] {
    return serializeState(this.store, this.seeder.batches);
  }

  seedDirectory(size: DirectorySize): SeededCounts {
    return this.seeder.seed(this.store, size, this.stamp());
  }

  tickets(tables: readonly TaskTable[], state: TicketStateFilter): TicketSummary[] {
    return tables.flatMap((table) => {
      const rows = [...this.store.table(table).inCreationOrder()];
      return rows
        .map((row) => this.summary(table, row))
        .filter((ticket) => state === 'all' || (ticket.active === 'true') === (state === 'open'));
    });
  }

  ticket(number: string): TicketDetail | undefined {
    const found = this.findTicket(number);
    if (found === undefined) return undefined;
    const record = this.store.table(found.table).toValues(found.row);
    return { table: found.table, record, journal: this.store.journal(record.sys_id ?? '') };
  }

  user(userName: string): UserLogin | undefined {
    const users = this.store.table('sys_user');
    const row = users.findBy('user_name', userName)[0];
    if (row === undefined) return undefined;
    const read = (field: string) => users.read(row, field);
    return {
      sys_id: read('sys_id'),
      user_name: read('user_name'),
      active: read('active'),
      locked_out: read('locked_out'),
      password_needs_reset: read('password_needs_reset'),
      password_set: isPasswordDigest(read('user_password')),
    };
  }

  actOnTicket(number: string, request: TicketActionRequest): TicketSummary {
    const found = this.findTicket(number);
    if (found === undefined) throw new ApiError(404, `No ticket ${number}`);
    const userName = request.by ?? this.settings.admin.login;
    const users = this.store.table('sys_user');
    const fulfiller = users.findBy('user_name', userName)[0];
    if (fulfiller === undefined) throw new ApiError(400, `No user '${userName}'`);
    const user = { sysId: users.read(fulfiller, 'sys_id'), userName: users.read(fulfiller, 'user_name') };
    const sysId = this.store.table(found.table).read(found.row, 'sys_id');
    const row = this.writer.update(found.table, sysId, actionChanges(found.table, request), {
      user,
      inputDisplayValue: false,
      checkAcl: false,
    });
    return this.summary(found.table, row);
  }

  now(): Date {
    return this.settings.now();
  }

  notificationStats(): NotificationStats | undefined {
    return this.notifier?.stats();
  }

  async close(): Promise<void> {
    await this.notifier?.close();
  }

  private stamp(): Stamp {
    return { on: formatDateTime(this.settings.now()), by: 'system' };
  }

  private findTicket(number: string): { table: TaskTable; row: Row } | undefined {
    for (const table of TASK_TABLES) {
      const row = this.store.table(table).findBy('number', number)[0];
      if (row !== undefined) return { table, row };
    }
    return undefined;
  }

  private summary(table: TaskTable, row: Row): TicketSummary {
    const read = (field: string) => this.store.table(table).read(row, field);
    return {
      number: read('number'),
      table,
      sys_id: read('sys_id'),
      state: read('state'),
      state_label: choiceLabel(table, 'state', read('state')),
      active: read('active'),
      short_description: read('short_description'),
      correlation_id: read('correlation_id'),
      sys_updated_on: read('sys_updated_on'),
      sys_mod_count: read('sys_mod_count'),
    };
  }

  private changed(table: TableName, row: Row): void {
    if (this.notifier === undefined || !(TICKET_TABLES as readonly TableName[]).includes(table)) return;
    const read = (field: string) => this.store.table(table).read(row, field);
    this.notifier.notify({
      table,
      sys_id: read('sys_id'),
      number: read('number'),
      sys_mod_count: read('sys_mod_count'),
      correlation_id: read('correlation_id'),
    });
  }
}
