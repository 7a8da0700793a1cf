import { ApplicationFailure, isCancellation, log, setCurrentDetails, setHandler } from '@temporalio/workflow';
import {
  exportActivityId,
  type ExportedTable,
  type ExportInput,
  type ExportMode,
  type ExportProgress,
  type ExportResult,
  type TableProgress,
} from '../../contract/export';
import { exportTable, planExport, planOptions, tableOptions } from './activityStubs';
import { exportProgressQuery } from './messages';
import { CONNECTION_IDENTIFIER } from '../../contract/order';

/**
 * Exports a connection's identity tables to CSV files, one activity per table. See README, "Export".
 *
 * Tables go one after the other, not in parallel: ServiceNow's rate limits count requests per user and hour, so
 * parallel reads would reach them sooner without finishing sooner; the instance serves one keyset query at a time
 * per table cheaply; and one page in memory at a time keeps the worker's memory flat. It also keeps the order the
 * identity system expects to load them in (users and groups before memberships and grants).
 *
 * A table that fails with an error no retry can fix does not stop the others; the run then fails at the end,
 * naming the tables, with the partial result in the failure's details. Files and cookies of the tables that
 * succeeded stay in place.
 */
export async function exportWorkflow(input: ExportInput): Promise<ExportResult> {
  const checked = validateInput(input);
  const startedAt = new Date().toISOString();
  const requested: ExportMode = checked.complete === true ? 'complete' : 'incremental';
  let progress: ExportProgress = {
    connection: checked.connection,
    mode: requested,
    phase: 'planning',
    tables: [],
    startedAt,
  };
  setHandler(exportProgressQuery, () => progress);
  setCurrentDetails(`Planning the export of ${checked.connection}`);

  const plan = await planExport.executeWithOptions(
    { ...planOptions, summary: `Plan the export of ${checked.connection}` },
    [checked],
  );
  const tables: TableProgress[] = plan.tables.map((table) => ({
    table: table.table,
    state: 'pending',
    activityId: exportActivityId(table.table),
  }));
  const update = (index: number, change: Partial<TableProgress>) => {
    tables[index] = { ...(tables[index] as TableProgress), ...change };
    progress = { ...progress, mode: plan.mode, phase: 'exporting', tables: [...tables] };
  };
  progress = { ...progress, mode: plan.mode, phase: 'exporting', tables: [...tables] };

  const done: ExportedTable[] = [];
  const failed: { table: string; error: string }[] = [];
  for (const [index, table] of plan.tables.entries()) {
    update(index, { state: 'running' });
    setCurrentDetails(`Exporting ${table.table} (${index + 1} of ${plan.tables.length}, ${plan.mode})`);
    try {
      const result = await exportTable.executeWithOptions(
        {
          ...tableOptions,
          activityId: exportActivityId(table.table),
          summary: `Export ${table.table} (${table.mode})`,
        },
        [table],
      );
      done.push(result);
      update(index, { state: 'done', result });
    } catch (error) {
      if (isCancellation(error)) throw error;
      const message = failureMessage(error);
      log.warn('Table export failed', { table: table.table, error: message });
      failed.push({ table: table.table, error: message });
      update(index, { state: 'failed', error: message });
    }
  }

  const result: ExportResult = {
    connection: plan.connection,
    mode: plan.mode,
    tables: done,
    startedAt,
    finishedAt: new Date().toISOString(),
  };
  progress = {
    ...progress,
    phase: failed.length === 0 ? 'done' : 'failed',
    finishedAt: result.finishedAt,
  };
  if (failed.length > 0) {
    setCurrentDetails(`Failed: ${failed.map((failure) => failure.table).join(', ')}`);
    throw ApplicationFailure.create({
      type: 'ExportFailed',
      message: `The export of ${plan.connection} failed for ${failed
        .map((failure) => `${failure.table} (${failure.error})`)
        .join('; ')}`,
      details: [result, failed],
      nonRetryable: true,
    });
  }
  setCurrentDetails(
    `Exported ${done.map((table) => `${table.table}: ${table.rows} rows (${table.mode})`).join(', ')}`,
  );
  return result;
}

function validateInput(input: ExportInput | undefined): ExportInput {
  const problems: string[] = [];
  if (typeof input !== 'object' || input === null) {
    problems.push('the input must be an object {"connection": "...", ...}');
  } else {
    if (typeof input.connection !== 'string' || !CONNECTION_IDENTIFIER.test(input.connection)) {
      problems.push('connection must be a connection identifier');
    }
    if (input.complete !== undefined && typeof input.complete !== 'boolean') {
      problems.push('complete must be true or false');
    }
    if (
      input.tables !== undefined &&
      (!Array.isArray(input.tables) || !input.tables.every((table) => typeof table === 'string'))
    ) {
      problems.push('tables must be a list of table names');
    }
    if (
      input.outputDirectory !== undefined &&
      (typeof input.outputDirectory !== 'string' || input.outputDirectory.trim() === '')
    ) {
      problems.push('outputDirectory must be a folder path');
    }
  }
  if (problems.length > 0 || input === undefined) {
    throw ApplicationFailure.create({
      type: 'InvalidExportInput',
      message: `Invalid export input: ${problems.join('; ')}`,
      details: problems,
      nonRetryable: true,
    });
  }
  return input;
}

/** The failure's own message: activity failures wrap the cause that says what went wrong. */
function failureMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? cause.message : error.message;
}
