import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { History } from '@temporalio/common/lib/proto-utils';
import * as proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';

/**
 * Workflow histories for audits and replay: every run of one workflow id (continue-as-new starts a new run with
 * its own history), fetched from a Temporal server or read from JSON files in the format of
 * `temporal workflow show --output json` and of the Web UI's download.
 */

export type { History };
export type HistoryEvent = NonNullable<History['events']>[number];

export interface RunHistory {
  /** Empty when unknown: older servers and the time-skipping test server do not write it into the history. */
  readonly workflowId: string;
  /** Empty when unknown (a file from a tool that does not keep it). */
  readonly runId: string;
  readonly history: History;
  /** Where it came from: `server` or the file's path. */
  readonly source: string;
}

/** A proto int64 as a number: Long from gRPC and protobufjs, plain numbers or strings from proto JSON. */
export function int64(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '') return Number(value);
  if (
    typeof value === 'object' &&
    value !== null &&
    'toNumber' in value &&
    typeof value.toNumber === 'function'
  ) {
    return (value as { toNumber(): number }).toNumber();
  }
  return undefined;
}

/** An event's time in milliseconds since the epoch. */
export function eventTimeMs(event: HistoryEvent | undefined): number | undefined {
  const time = event?.eventTime;
  if (time === undefined || time === null) return undefined;
  const seconds = int64(time.seconds) ?? 0;
  return seconds * 1000 + Math.floor((time.nanos ?? 0) / 1e6);
}

export class HistoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HistoryError';
  }
}

/** The run this run continues (continue-as-new, retry or cron), from its first event. */
export function continuedFrom(history: History): string | undefined {
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  return started?.continuedExecutionRunId || undefined;
}

/** The run that continues this one, from its last event. */
export function continuedAs(history: History): string | undefined {
  const last = history.events?.at(-1);
  return last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId || undefined;
}

/**
 * Proto JSON, done with the protobufjs copy that built `@temporalio/proto`'s types. `historyFromJSON` and
 * `historyToJSON` of `@temporalio/common/lib/proto-utils` use the copy nested under `@temporalio/common`; when npm
 * cannot hoist protobufjs 8 (here `@grpc/proto-loader` keeps protobufjs 7 at the top), the two copies differ and
 * both functions throw "type must be a Type". The format is the same: these read what they read.
 */
interface ProtoJson {
  fromJson(type: unknown, json: unknown, options?: { ignoreUnknownFields?: boolean }): unknown;
  toJson(type: unknown, message: unknown): unknown;
}

let historyCodec: { readonly protojson: ProtoJson; readonly type: unknown } | undefined;

function codec(): { readonly protojson: ProtoJson; readonly type: unknown } {
  if (historyCodec === undefined) {
    const requireFromProto = createRequire(require.resolve('@temporalio/proto'));
    const protojson = requireFromProto('protobufjs/ext/protojson') as ProtoJson;
    const root = patchProtobufRoot(proto) as unknown as { lookupType(name: string): unknown };
    historyCodec = { protojson, type: root.lookupType('temporal.api.history.v1.History') };
  }
  return historyCodec;
}

/** Enum fields that older tools (tctl, earlier Web UIs) wrote as `WorkflowExecutionStarted` instead of constants. */
const ENUM_PREFIXES: Readonly<Record<string, string>> = {
  eventType: 'EVENT_TYPE',
  kind: 'TASK_QUEUE_KIND',
  parentClosePolicy: 'PARENT_CLOSE_POLICY',
  workflowIdReusePolicy: 'WORKFLOW_ID_REUSE_POLICY',
  initiator: 'CONTINUE_AS_NEW_INITIATOR',
  retryState: 'RETRY_STATE',
};

function constantEnums(value: unknown, depth = 0): unknown {
  if (depth > 4 || typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const fixed: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    const prefix = ENUM_PREFIXES[key];
    if (prefix !== undefined && typeof field === 'string' && !field.startsWith(`${prefix}_`)) {
      fixed[key] = `${prefix}_${field.replace(/(?<=[a-z0-9])(?=[A-Z])/g, '_').toUpperCase()}`;
    } else {
      fixed[key] = key === 'payloads' || key === 'data' ? field : constantEnums(field, depth + 1);
    }
  }
  return fixed;
}

/** A history from its proto JSON (`{"events": [...]}`), as `historyFromJSON` reads it. */
export function historyFromJson(json: unknown): History {
  if (typeof json !== 'object' || json === null || !Array.isArray((json as { events?: unknown }).events)) {
    throw new TypeError('expected an object with an array of events');
  }
  const events = (json as { events: unknown[] }).events.map((event) => constantEnums(event));
  const { protojson, type } = codec();
  const history = protojson.fromJson(type, { events }, { ignoreUnknownFields: true });
  if (history === null || typeof history !== 'object') throw new TypeError('not a history');
  return history;
}

/** The history of one run as proto JSON, one event per line (compact, and diffs stay readable). */
export function historyJSON(history: History): string {
  const { protojson, type } = codec();
  const parsed = protojson.toJson(type, history) as { events?: unknown[] };
  const events = (parsed.events ?? []).map((event) => JSON.stringify(event));
  return `{"events":[\n${events.join(',\n')}\n]}\n`;
}

/**
 * Reads a history file (`temporal workflow show --output json`, the Web UI's download, or what `historyJSON` writes).
 */
export function loadHistoryFile(file: string): RunHistory {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new HistoryError(
      `${file}: not a JSON file (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  let history: History;
  try {
    history = historyFromJson(parsed);
  } catch (error) {
    throw new HistoryError(
      `${file}: not a workflow history (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  if (started === undefined || started === null) {
    throw new HistoryError(`${file}: a history must start with WorkflowExecutionStarted`);
  }
  return {
    workflowId: started.workflowId ?? '',
    runId: started.originalExecutionRunId ?? '',
    history,
    source: file,
  };
}

/** The `.json` files of a folder and its subfolders, sorted by path (so `x-run2.json` comes before `x-run10.json`). */
export function historyFilesIn(dir: string): string[] {
  const files: string[] = [];
  const walk = (folder: string) => {
    let names: string[];
    try {
      names = readdirSync(folder);
    } catch (error) {
      throw new HistoryError(
        `${folder}: cannot read the folder (${error instanceof Error ? error.message : String(error)})`,
      );
    }
    for (const name of names) {
      const full = path.join(folder, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (name.endsWith('.json')) files.push(full);
    }
  };
  walk(dir);
  return files.sort((a, b) =>
    path.relative(dir, a).localeCompare(path.relative(dir, b), 'en', { numeric: true }),
  );
}

/** Runs in the order they ran: by the time of their first event (runs of one chain never overlap). */
export function inRunOrder(runs: readonly RunHistory[]): RunHistory[] {
  const startOf = (run: RunHistory): number => eventTimeMs(run.history.events?.[0]) ?? 0;
  return [...runs].sort((a, b) => startOf(a) - startOf(b));
}
