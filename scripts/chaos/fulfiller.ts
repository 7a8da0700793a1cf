import type { Random } from './random';
import type { SimulatorAdmin, Ticket } from './simulatorAdmin';
import { pause } from './timing';

export type Outcome = 'close' | 'cancel';

export interface FulfillerOptions {
  /** A ticket is acted on after a random delay in this range from when the fulfiller first sees it. */
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  readonly closeShare: number;
  /** While `holding()` says so, this many tickets are left open (orders stay in flight for the disruptions). */
  readonly keepOpen: number;
  readonly holding: () => boolean;
}

const LOOP_INTERVAL_MS = 300;

/**
 * A human fulfiller working the ServiceNow queue through the simulator's admin API: picks up each open ticket
 * the connector opened, sometimes marks it in progress, then closes or cancels it at random. Only the oldest
 * ticket of a correlation id is touched, the one the connector converges on. Bounded by its signal.
 */
export class Fulfiller {
  /** Ticket number → what the fulfiller did last (close or cancel), with the ticket's correlation id. */
  readonly outcomes = new Map<string, { readonly outcome: Outcome; readonly correlationId: string }>();
  readonly failedActions: string[] = [];
  private readonly dueAt = new Map<string, number>();
  private readonly worked = new Set<string>();

  constructor(
    private readonly admin: SimulatorAdmin,
    private readonly random: Random,
    private readonly options: FulfillerOptions,
  ) {}

  get counts(): { closed: number; canceled: number } {
    const outcomes = [...this.outcomes.values()];
    return {
      closed: outcomes.filter((entry) => entry.outcome === 'close').length,
      canceled: outcomes.filter((entry) => entry.outcome === 'cancel').length,
    };
  }

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.pass();
      } catch (error) {
        this.failedActions.push(error instanceof Error ? error.message : String(error));
      }
      await pause(LOOP_INTERVAL_MS, signal);
    }
  }

  private async pass(): Promise<void> {
    const open = oldestPerCorrelationId(await this.admin.tickets('open'));
    const now = Date.now();
    for (const ticket of open) {
      if (!this.dueAt.has(ticket.number)) {
        this.dueAt.set(
          ticket.number,
          now + this.random.int(this.options.minDelayMs, this.options.maxDelayMs),
        );
      }
    }
    let stillOpen = open.length;
    for (const ticket of this.random.shuffle(open)) {
      if ((this.dueAt.get(ticket.number) ?? Infinity) > now) continue;
      if (this.options.holding() && stillOpen <= this.options.keepOpen) return;
      if (!this.worked.has(ticket.number) && this.random.chance(0.2)) {
        this.worked.add(ticket.number);
        await this.admin.act(ticket.number, 'work');
        this.dueAt.set(ticket.number, now + this.random.int(500, 3000));
        continue;
      }
      const outcome: Outcome = this.random.chance(this.options.closeShare) ? 'close' : 'cancel';
      await this.admin.act(ticket.number, outcome);
      this.outcomes.set(ticket.number, { outcome, correlationId: ticket.correlation_id });
      stillOpen -= 1;
    }
  }
}

/** Open tickets carrying a correlation id, only the oldest (lowest number) of each correlation id. */
function oldestPerCorrelationId(tickets: readonly Ticket[]): Ticket[] {
  const oldest = new Map<string, Ticket>();
  for (const ticket of tickets) {
    if (ticket.correlation_id === '') continue;
    const seen = oldest.get(ticket.correlation_id);
    if (seen === undefined || ticket.number < seen.number) oldest.set(ticket.correlation_id, ticket);
  }
  return [...oldest.values()];
}
