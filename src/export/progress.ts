/**
 * The heartbeat of a table's export: the progress it reports after every page, and the check of the one a
 * previous attempt left (the server hands it back as it was recorded, from whatever code wrote it).
 */
import { z } from 'zod';
import type { ExportCursor, ExportHeartbeat, IdentityTable } from '../contract/export';
import type { ReadPlan } from './readPlan';
import { isServiceNowDateTime } from './timestamps';

const cursorSchema = z.object({ sysId: z.string().min(1), updatedOn: z.string() });
export const heartbeatSchema = z
  .object({
    table: z.string(),
    rows: z.number().int().nonnegative(),
    totalEstimate: z.number().optional(),
    cursor: cursorSchema.nullable(),
    bytes: z.number().int().positive(),
    tempFile: z.string(),
    mode: z.enum(['complete', 'incremental']),
    skippedAsDuplicates: z.number().int().nonnegative(),
    waitingUntil: z.string().optional(),
    resume: z.object({
      readStartedAt: z.string().refine(isServiceNowDateTime),
      since: z.string().refine(isServiceNowDateTime).optional(),
      until: z.string().refine(isServiceNowDateTime).optional(),
      previousWatermark: z.string().refine(isServiceNowDateTime).optional(),
      maxUpdatedOn: z.string().refine(isServiceNowDateTime).optional(),
      keysBytes: z.number().int().nonnegative(),
      neutralizeFormulas: z.boolean().optional(),
    }),
  })
  .refine(
    (beat) =>
      beat.mode === 'complete' || (beat.resume.since !== undefined && beat.resume.until !== undefined),
  );

export interface Progress {
  rows: number;
  bytes: number;
  keysBytes: number;
  cursor: ExportCursor | null;
  skipped: number;
  maxUpdatedOn: string | undefined;
  totalEstimate: number | undefined;
  waitingUntil: string | undefined;
}

export function heartbeatOf(
  table: IdentityTable,
  plan: ReadPlan,
  tempFile: string,
  progress: Progress,
): ExportHeartbeat {
  return {
    table,
    rows: progress.rows,
    ...(progress.totalEstimate === undefined ? {} : { totalEstimate: progress.totalEstimate }),
    cursor: progress.cursor,
    bytes: progress.bytes,
    tempFile,
    mode: plan.mode,
    skippedAsDuplicates: progress.skipped,
    ...(progress.waitingUntil === undefined ? {} : { waitingUntil: progress.waitingUntil }),
    resume: {
      ...plan.resume,
      ...(progress.maxUpdatedOn === undefined ? {} : { maxUpdatedOn: progress.maxUpdatedOn }),
      keysBytes: progress.keysBytes,
    },
  };
}
