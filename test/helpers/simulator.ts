import { after, before } from 'node:test';
import { startSimulator, type SimulatorHandle, type SimulatorOptions } from '../../src/simulator/server';

/** A clock tests move by hand: token expiry and rate-limit windows follow it, not the wall clock. */
export class ManualClock {
  private current: Date;

  constructor(start = '2024-05-01T10:00:00Z') {
    this.current = new Date(start);
  }

  readonly now = (): Date => new Date(this.current);

  advance(seconds: number): void {
    this.current = new Date(this.current.getTime() + seconds * 1000);
  }
}

export type Credentials =
  { readonly login: string; readonly password: string } | { readonly bearer: string } | 'admin' | 'none';

export interface CallOptions {
  readonly method?: string;
  /** Sent as JSON unless it is already a string. */
  readonly body?: unknown;
  /** Defaults to the admin user's Basic credentials. */
  readonly as?: Credentials;
  readonly headers?: Readonly<Record<string, string>>;
}

/** HTTP calls to a running simulator; plain functions, so they can be passed around on their own. */
export interface SimulatorCalls {
  /** `fetch` of a path of the simulator (`/api/now/table/incident?...`). */
  readonly call: (path: string, options?: CallOptions) => Promise<Response>;
  /** Creates a record through the Table API and returns its `result`, references as plain sys_ids. */
  readonly create: (
    table: string,
    values: Record<string, unknown>,
    as?: Credentials,
  ) => Promise<Record<string, string>>;
  /** Updates a record through the Table API as the admin (PATCH), failing the test unless it answers 200. */
  readonly update: (table: string, sysId: string, values: Record<string, unknown>) => Promise<void>;
  /** `fetch` of the admin API (`/tickets`, `/faults`, ...) as the admin. */
  readonly admin: (path: string, options?: Omit<CallOptions, 'as'>) => Promise<Response>;
}

export interface SimulatorFixture extends SimulatorCalls {
  readonly sim: SimulatorHandle;
}

export function basicAuthorization(login: string, password: string): string {
  return `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}`;
}

/**
 * Starts a simulator for the enclosing `describe` (or file) on an ephemeral loopback port and closes it after.
 * Options may be a function, to read values (a receiver's URL) that exist only once other `before` hooks ran.
 */
export function useSimulator(options: SimulatorOptions | (() => SimulatorOptions) = {}): SimulatorFixture {
  let handle: SimulatorHandle | undefined;
  before(async () => {
    handle = await startSimulator({ port: 0, ...(typeof options === 'function' ? options() : options) });
  });
  after(async () => {
    await handle?.close();
  });
  const sim = (): SimulatorHandle => {
    if (handle === undefined) throw new Error('The simulator is used before its before() hook ran');
    return handle;
  };
  return {
    get sim() {
      return sim();
    },
    ...simulatorCalls(sim),
  };
}

/** Calls to the simulator `sim()` returns at the time of each call (tests that restart it pass a new one). */
export function simulatorCalls(sim: () => SimulatorHandle): SimulatorCalls {
  const authorization = (as: Credentials): string | undefined => {
    if (as === 'none') return undefined;
    if (as === 'admin') return basicAuthorization(sim().credentials.login, sim().credentials.password);
    return 'bearer' in as ? `Bearer ${as.bearer}` : basicAuthorization(as.login, as.password);
  };
  const call = (path: string, { method, body, as = 'admin', headers = {} }: CallOptions = {}) => {
    const auth = authorization(as);
    return fetch(`${sim().url}${path}`, {
      method: method ?? (body === undefined ? 'GET' : 'POST'),
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(auth === undefined ? {} : { authorization: auth }),
        ...headers,
      },
      body: body === undefined || typeof body === 'string' ? body : JSON.stringify(body),
    });
  };
  return {
    call,
    create: async (table, values, as = 'admin') => {
      const response = await call(`/api/now/table/${table}?sysparm_exclude_reference_link=true`, {
        body: values,
        as,
      });
      if (response.status !== 201)
        throw new Error(`create ${table}: ${response.status} ${await response.text()}`);
      return ((await response.json()) as { result: Record<string, string> }).result;
    },
    update: async (table, sysId, values) => {
      const response = await call(`/api/now/table/${table}/${sysId}`, { method: 'PATCH', body: values });
      if (response.status !== 200)
        throw new Error(`update ${table}/${sysId}: ${response.status} ${await response.text()}`);
    },
    admin: (path, options = {}) => call(`/sim/admin${path}`, { ...options, as: 'admin' }),
  };
}
