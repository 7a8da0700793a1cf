import { defineQuery } from '@temporalio/workflow';
import type { ExportProgress } from '../../contract/export';

/**
 * The export workflow's query, a public contract like the workflow type and input. Live row counts of the table
 * being exported are in its activity's heartbeat details (`ExportHeartbeat`), found by `TableProgress.activityId`
 * among the pending activities of `handle.describe()`.
 */
export const exportProgressQuery = defineQuery<ExportProgress>('progress');
