/**
 * Values that name or place a worker process: its deployment name and build id, as the Temporal server checks
 * them, and the interface its health endpoint listens on. Also checked when they come from the environment.
 */
import { isIP } from 'node:net';
import { z } from 'zod';

/** The server's default `limit.workerBuildIdSize`; names are held to the same so they stay usable in the CLI and UI. */
const MAX_DEPLOYMENT_PART_LENGTH = 255;

/**
 * A worker deployment name or build id, with the rules the Temporal server applies when a worker polls (no
 * leading "__"; no "." or ":" in names). A worker whose polls the server refuses still starts and reports
 * RUNNING, but never receives a task, so refuse such values here. Whitespace is refused too, as both values
 * are typed into `temporal worker deployment` commands.
 */
export function deploymentPart(what: string, forbidden: { pattern: RegExp; message: string }[] = []) {
  return z
    .string({ error: `must be a string (expected ${what})` })
    .trim()
    .min(1, `must not be empty (expected ${what})`)
    .max(MAX_DEPLOYMENT_PART_LENGTH, `must be at most ${MAX_DEPLOYMENT_PART_LENGTH} characters`)
    .refine((value) => !value.startsWith('__'), 'must not start with "__" (reserved by the Temporal server)')
    .refine((value) => !/[\s\p{Cc}]/u.test(value), 'must not contain spaces or control characters')
    .superRefine((value, ctx) => {
      for (const rule of forbidden) {
        if (rule.pattern.test(value)) ctx.addIssue({ code: 'custom', message: rule.message });
      }
    });
}

/** Checks a build id that does not come from the settings file (SNOW_CONNECTOR_BUILD_ID). */
export const workerBuildIdSchema = deploymentPart('a build id, e.g. 1.4.0+3f2a9c0');

/** Where the worker's health endpoint listens (see src/platform/healthServer.ts): an address or a host name. */
export const healthHostSchema = z
  .string({ error: 'must be an IP address such as 127.0.0.1 or 0.0.0.0, or a host name' })
  .trim()
  .refine(
    (host) =>
      isIP(host) !== 0 || /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(host),
    'must be an IP address such as 127.0.0.1 or 0.0.0.0, or a host name',
  );

/** A port for the health endpoint given as text (WORKER_HEALTH_PORT); 0 picks a free one. */
export const healthPortSchema = z
  .string()
  .trim()
  .regex(/^\d{1,5}$/, 'must be a whole number from 0 to 65535')
  .transform(Number)
  .refine((port) => port <= 65_535, 'must be a whole number from 0 to 65535');
