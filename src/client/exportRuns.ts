import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { ExportInput } from '../contract/export';
import { EXPORT_WORKFLOW_TYPE } from '../contract/names';
import { visibilityLiteral } from './visibility';

/**
 * Naming, starting and finding CSV export runs (`exportProgress.ts` follows them, `exportSchedules.ts` runs them
 * periodically). The workflow's contract (type `exportWorkflow`, its input, result, `progress` query and heartbeat
 * details) is in `src/contract/export.ts`; this module only names and finds runs.
 */

/** `export:<connection>:`: every export of a connection, started by hand or by its schedule, has this prefix. */
export function exportWorkflowIdPrefix(connection: string): string {
  return `export:${connection}:`;
}

/**
 * `export:<connection>:<ISO 8601 time>` for an export started by hand. A schedule's runs are
 * `export:<connection>:schedule-<time>` (Temporal appends the scheduled time to the schedule's workflow id).
 */
export function exportWorkflowId(connection: string, at: Date = new Date()): string {
  return `${exportWorkflowIdPrefix(connection)}${at.toISOString()}`;
}

/** `export-<connection>`: one export schedule per connection. */
export function exportScheduleId(connection: string): string {
  return `export-${connection}`;
}

/** A run of `exportWorkflow`, to follow with `exportSnapshot` and `exportEnding`. */
export type ExportRunHandle = WorkflowHandle;

export interface StartedExport {
  readonly workflowId: string;
  readonly handle: ExportRunHandle;
}

/**
 * Starts an export under a new id. Conflict policy FAIL and reuse policy REJECT_DUPLICATE: an id names one export,
 * ever; two starts in the same millisecond do not silently share a run whose options may differ (the second one
 * fails with WorkflowExecutionAlreadyStartedError and can simply be retried).
 */
export async function startExport(
  client: Client,
  input: ExportInput,
  options: { readonly taskQueue: string; readonly now?: Date },
): Promise<StartedExport> {
  const workflowId = exportWorkflowId(input.connection, options.now);
  const handle = await client.workflow.start(EXPORT_WORKFLOW_TYPE, {
    taskQueue: options.taskQueue,
    workflowId,
    args: [input],
    workflowIdConflictPolicy: 'FAIL',
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    staticSummary: exportSummary(input),
  });
  return { workflowId, handle };
}

/** "Complete export of Main (sys_user, sys_user_group)": the run's summary in the Web UI. */
export function exportSummary(input: ExportInput): string {
  const mode = input.complete === true ? 'Complete export' : 'Export';
  const tables = input.tables === undefined ? '' : ` (${input.tables.join(', ')})`;
  return `${mode} of ${input.connection}${tables}`;
}

export { WorkflowExecutionAlreadyStartedError };

export interface RunningExport {
  readonly workflowId: string;
  readonly runId: string;
  readonly startTime: Date;
}

/**
 * Exports of the connection that are running, by hand or by schedule, newest first. Visibility is eventually
 * consistent: an export started a moment ago may not be listed yet.
 */
export async function runningExports(client: Client, connection: string): Promise<RunningExport[]> {
  const query =
    `WorkflowType = ${visibilityLiteral(EXPORT_WORKFLOW_TYPE)} AND ExecutionStatus = 'Running' ` +
    `AND WorkflowId STARTS_WITH ${visibilityLiteral(exportWorkflowIdPrefix(connection))}`;
  const found: RunningExport[] = [];
  for await (const execution of client.workflow.list({ query, pageSize: 100 })) {
    found.push({ workflowId: execution.workflowId, runId: execution.runId, startTime: execution.startTime });
    if (found.length >= 100) break;
  }
  return found.sort((a, b) => b.startTime.getTime() - a.startTime.getTime());
}

/** The workflow id names a workflow of another type (a provisioning order, a self-check): not an export. */
export class NotAnExportError extends Error {
  constructor(
    readonly workflowId: string,
    readonly workflowType: string,
  ) {
    super(`${workflowId} is a ${workflowType}, not an export`);
    this.name = 'NotAnExportError';
  }
}

/** A run of the export workflow by id (its latest run); NotAnExportError when the id names another workflow. */
export async function exportRun(client: Client, workflowId: string): Promise<ExportRunHandle> {
  const handle = client.workflow.getHandle(workflowId);
  const description = await handle.describe();
  if (description.type !== EXPORT_WORKFLOW_TYPE) throw new NotAnExportError(workflowId, description.type);
  return handle;
}
