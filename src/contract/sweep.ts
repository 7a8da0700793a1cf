import { defineQuery } from '@temporalio/workflow';
import type { TicketTable } from './tickets';

/**
 * The ticket sweep's input, result and query: one workflow per connection (id `ticketSweepWorkflowId`) that reads
 * the connector's tickets changed since its watermark and tells their orders (`ticketChangedSignal`). Shared by
 * the workflow, its activities and the client that starts it.
 *
 * Workflow code imports this module: no Node built-ins, no I/O.
 */

/** ServiceNow's `YYYY-MM-DD HH:MM:SS` (UTC), the form of every watermark; in it, text order is time order. */
export const SERVICENOW_DATE_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

/** What a connection's sweep reads and how often, from the worker's settings (`TicketConnector.Sweep`). */
export interface SweepPlan {
  /** The tables of the connection's ResourceTypeMappings. */
  readonly tables: readonly TicketTable[];
  readonly intervalMs: number;
  /** How far before the watermark each sweep starts reading (clock skew, late commits). */
  readonly overlapMs: number;
  /** Rows per ServiceNow call. */
  readonly pageSize: number;
}

/**
 * A ticket version the sweep handled: `[sys_id, sys_mod_count, sys_updated_on]`. The next sweep reads it again
 * (its overlap) and must not tell the order twice; `sys_updated_on` says when it leaves the overlap window.
 */
export type SweptVersion = readonly [sysId: string, sysModCount: number, updatedOn: string];

export interface SweepCounts {
  /** ServiceNow calls. */
  readonly calls: number;
  /** Tickets read. */
  readonly rows: number;
  /** Orders told their ticket changed. */
  readonly signaled: number;
  /** Tickets whose order has ended, or whose correlation id is not one of this connection's orders. */
  readonly ignored: number;
  /** Versions the previous sweep already told (read again in the overlap). */
  readonly repeated: number;
}

export interface SweepTicketChangesInput {
  readonly connection: string;
  readonly tables: readonly TicketTable[];
  /** `YYYY-MM-DD HH:MM:SS` UTC: the newest `sys_updated_on` the previous sweeps saw; absent on the first one. */
  readonly watermark?: string;
  readonly recentlySignaled: readonly SweptVersion[];
  readonly overlapMs: number;
  readonly pageSize: number;
}

export interface SweepTicketChangesResult {
  /** The newest `sys_updated_on` read, or the input's watermark when nothing newer was. */
  readonly watermark?: string;
  /** Versions inside the next sweep's overlap window, for its input. */
  readonly recentlySignaled: readonly SweptVersion[];
  readonly counts: SweepCounts;
}

/** Carried from run to run by continue-as-new. */
export interface TicketSweepCarried {
  readonly watermark?: string;
  readonly recentlySignaled: readonly SweptVersion[];
  readonly sweeps: number;
  readonly lastSweep?: LastSweep;
}

export interface TicketSweepInput {
  readonly connection: string;
  readonly carried?: TicketSweepCarried;
}

export interface LastSweep {
  /** When it ended (workflow clock, ISO 8601). */
  readonly at: string;
  readonly counts?: SweepCounts;
  /** Why it failed; the watermark then stayed where it was and the next sweep reads the same changes. */
  readonly error?: string;
}

export interface TicketSweepStatus {
  readonly connection: string;
  readonly plan?: SweepPlan;
  readonly watermark?: string;
  /** Sweeps since the first run. */
  readonly sweeps: number;
  readonly lastSweep?: LastSweep;
}

/** Returned when the sweep stops itself: sweeping was turned off, or the connection has no ticket mapping left. */
export interface TicketSweepResult {
  readonly connection: string;
  readonly watermark?: string;
  readonly sweeps: number;
}

export const sweepStatusQuery = defineQuery<TicketSweepStatus>('sweepStatus');
