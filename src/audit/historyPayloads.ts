import { defaultPayloadConverter } from '@temporalio/common';

/**
 * Reading what a history carries as untrusted shapes: payloads through the default (JSON) payload converter,
 * fields by path with their expected type, failures by message and type. Histories recorded by older versions
 * of a workflow, or by other tools, still read; what does not fit reads as undefined. Failure stack traces are
 * never copied.
 */

export type Json = unknown;

export type Payloads = { payloads?: readonly unknown[] | null } | null | undefined;

/** A payload's value, or a marker when it cannot be read (an encrypting codec, a binary payload). */
export function decode(payload: unknown): Json {
  if (payload === undefined || payload === null) return undefined;
  try {
    return defaultPayloadConverter.fromPayload(payload);
  } catch {
    return { undecodable: true };
  }
}

export function args(payloads: Payloads): Json[] {
  return (payloads?.payloads ?? []).map(decode);
}

export function first(payloads: Payloads): Json {
  return args(payloads)[0];
}

export function get(value: Json, ...path: string[]): Json {
  let current = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
    current = (current as Record<string, Json>)[key];
  }
  return current;
}

export function str(value: Json, ...path: string[]): string | undefined {
  const found = get(value, ...path);
  if (typeof found === 'string') return found;
  if (typeof found === 'number') return String(found);
  return undefined;
}

export function num(value: Json, ...path: string[]): number | undefined {
  const found = get(value, ...path);
  return typeof found === 'number' ? found : undefined;
}

export function bool(value: Json, ...path: string[]): boolean | undefined {
  const found = get(value, ...path);
  return typeof found === 'boolean' ? found : undefined;
}

/** Drops undefined values, so that JSON output and test comparisons stay small. */
export function defined<T extends Record<string, unknown>>(record: T): T {
  return Object.fromEntries(Object.entries(record).filter((entry) => entry[1] !== undefined)) as T;
}

export type Failure =
  | {
      message?: string | null;
      cause?: Failure | null;
      applicationFailureInfo?: { type?: string | null; nonRetryable?: boolean | null } | null;
      timeoutFailureInfo?: { timeoutType?: unknown } | null;
      canceledFailureInfo?: unknown;
      terminatedFailureInfo?: unknown;
    }
  | null
  | undefined;

/** A failure's message, type and the messages of its causes; never its stack trace or details. */
export function failureFacts(failure: Failure): Record<string, unknown> {
  const causes: string[] = [];
  for (let cause = failure?.cause, depth = 0; cause && depth < 5; cause = cause.cause, depth += 1) {
    if (cause.message) causes.push(cause.message);
  }
  return defined({
    message: failure?.message || undefined,
    type: failure?.applicationFailureInfo?.type || undefined,
    nonRetryable: failure?.applicationFailureInfo?.nonRetryable || undefined,
    causes: causes.length > 0 ? causes : undefined,
  });
}

export function failureText(failure: Failure): string {
  const facts = failureFacts(failure);
  const causes = (facts.causes as string[] | undefined) ?? [];
  const message = (facts.message as string | undefined) ?? 'no message';
  return [message, ...causes.filter((cause) => cause !== message)].join(': ');
}

export function isRecord(value: Json): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
