/**
 * The ServiceNow simulator's operator API (`/sim/admin`, see src/simulator/adminRoutes.ts) over HTTP:
 * faults, tickets, and the fulfiller's actions. Never subject to the faults it injects.
 */

export interface Faults {
  readonly errorRate?: number;
  readonly dropRate?: number;
  readonly latencyMs?: number;
  readonly failAfterCommit?: number;
}

/** The fields of a ticket summary this script reads. */
export interface Ticket {
  readonly number: string;
  readonly table: string;
  readonly sys_id: string;
  readonly state: string;
  readonly state_label: string;
  readonly active: string;
  readonly correlation_id: string;
}

export interface JournalEntry {
  readonly field: string;
  readonly value: string;
}

export interface RequestCounts {
  readonly total: number;
  readonly byStatus: Readonly<Record<string, number>>;
}

export type FulfillerAction = 'work' | 'close' | 'cancel';

export interface SimulatorAccess {
  readonly url: string;
  readonly login: string;
  readonly password: string;
}

export class SimulatorAdmin {
  private readonly authorization: string;

  constructor(private readonly access: SimulatorAccess) {
    this.authorization = `Basic ${Buffer.from(`${access.login}:${access.password}`).toString('base64')}`;
  }

  /** Back to the startup state: baseline records only, no tickets, startup faults. */
  async reset(): Promise<void> {
    await this.call('POST', '/reset');
  }

  async setFaults(faults: Faults): Promise<void> {
    await this.call('PUT', '/faults', faults);
  }

  /** Every ticket of every table, open ones or all. */
  async tickets(state: 'open' | 'all'): Promise<Ticket[]> {
    return (await this.call<{ result: Ticket[] }>('GET', `/tickets?state=${state}`)).result;
  }

  /** The work notes and comments of a ticket. */
  async journal(number: string): Promise<JournalEntry[]> {
    const answer = await this.call<{ result: { journal: JournalEntry[] } }>(
      'GET',
      `/tickets/${encodeURIComponent(number)}`,
    );
    return answer.result.journal;
  }

  async act(number: string, action: FulfillerAction): Promise<Ticket> {
    const notes = `${action} by the chaos fulfiller`;
    const answer = await this.call<{ result: Ticket }>(
      'POST',
      `/tickets/${encodeURIComponent(number)}/${action}`,
      action === 'work' ? {} : { notes },
    );
    return answer.result;
  }

  /** Instance requests so far, by HTTP status (`dropped` for connections destroyed without an answer). */
  async requestCounts(): Promise<RequestCounts> {
    return (await this.call<{ result: { requests: RequestCounts } }>('GET', '/stats')).result.requests;
  }

  private async call<T>(method: string, route: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.access.url}/sim/admin${route}`, {
      method,
      headers: {
        authorization: this.authorization,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`simulator admin ${method} ${route}: ${response.status} ${text}`);
    return JSON.parse(text) as T;
  }
}
