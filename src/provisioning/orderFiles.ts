import { readdir, readFile, rename, stat, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeIssues, provisioningInputSchema, type ProvisioningInput } from '../contract/order';

/**
 * Order files as Identity Manager and operators write them, and the "fulfill" folder protocol. No Temporal
 * code here: starting an order is a function handed in, so the folder logic is tested on its own.
 *
 * Three shapes are accepted:
 * - a workflow input, `{"connection": "Main", "order": {...}}` (the connection may come from the caller);
 * - a bare Identity Manager order, `{"AssignedResourceTypeId": ..., "ChangeType": ..., ...}`;
 * - an Identity Manager order file, `{"ProvisioningOrdersList": [{...}, ...]}`.
 * Bare orders and order lists do not say which ServiceNow connection they are for: the caller says.
 */

export type OrderDocumentKind = 'workflow-input' | 'order' | 'orders-list';

export type ParsedOrders =
  | { readonly ok: true; readonly kind: OrderDocumentKind; readonly inputs: readonly ProvisioningInput[] }
  | { readonly ok: false; readonly kind?: OrderDocumentKind; readonly problems: readonly string[] };

export interface OrderSourceOptions {
  /** The connection identifier for bare orders and order lists (and a workflow input that names none). */
  readonly connection?: string;
}

const UTF8_BOM = '\uFEFF';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function kindOf(value: unknown): OrderDocumentKind | undefined {
  if (!isObject(value)) return undefined;
  if (Object.hasOwn(value, 'ProvisioningOrdersList')) return 'orders-list';
  if (Object.hasOwn(value, 'order')) return 'workflow-input';
  return 'order';
}

function missingConnection(kind: OrderDocumentKind): string {
  const what = kind === 'orders-list' ? 'a ProvisioningOrdersList file' : 'an Identity Manager order';
  return `connection: missing; ${what} does not say which ServiceNow connection it is for, so it must be given (--connection <id>)`;
}

/**
 * Validates every order of a document, collecting every field-level problem (`orders[2].order.ChangeType: ...`)
 * so that nothing is started from a document that is partly wrong.
 */
export function parseOrderDocument(value: unknown, options: OrderSourceOptions = {}): ParsedOrders {
  const kind = kindOf(value);
  if (kind === undefined || !isObject(value)) {
    return {
      ok: false,
      problems: ['(file): must be a JSON object: an order, {connection, order} or {ProvisioningOrdersList}'],
    };
  }
  const { connection } = options;
  if (kind === 'workflow-input') {
    const given = value.connection;
    if (given !== undefined && connection !== undefined && given !== connection) {
      return {
        ok: false,
        kind,
        problems: [
          `connection: the file names ${JSON.stringify(given)} but ${JSON.stringify(connection)} was given`,
        ],
      };
    }
    const input = given === undefined && connection !== undefined ? { ...value, connection } : value;
    const parsed = provisioningInputSchema.safeParse(input);
    return parsed.success
      ? { ok: true, kind, inputs: [parsed.data] }
      : { ok: false, kind, problems: describeIssues(parsed.error) };
  }
  if (connection === undefined) return { ok: false, kind, problems: [missingConnection(kind)] };
  if (kind === 'order') {
    const parsed = provisioningInputSchema.safeParse({ connection, order: value });
    return parsed.success
      ? { ok: true, kind, inputs: [parsed.data] }
      : { ok: false, kind, problems: describeIssues(parsed.error) };
  }
  const list = value.ProvisioningOrdersList;
  if (!Array.isArray(list)) {
    return { ok: false, kind, problems: ['ProvisioningOrdersList: must be an array of provisioning orders'] };
  }
  const inputs: ProvisioningInput[] = [];
  const problems: string[] = [];
  list.forEach((order: unknown, index) => {
    const parsed = provisioningInputSchema.safeParse({ connection, order });
    if (parsed.success) inputs.push(parsed.data);
    else problems.push(...describeIssues(parsed.error, `orders[${index}]`));
  });
  return problems.length === 0 ? { ok: true, kind, inputs } : { ok: false, kind, problems };
}

/** Parses the text of an order file (UTF-8, with or without the byte order mark .NET writers put first). */
export function parseOrderText(text: string, options: OrderSourceOptions = {}): ParsedOrders {
  const body = text.startsWith(UTF8_BOM) ? text.slice(UTF8_BOM.length) : text;
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, problems: [`(file): is not valid JSON: ${reason}`] };
  }
  return parseOrderDocument(value, options);
}

// ---------------------------------------------------------------------------------------------------------
// The fulfill folder
// ---------------------------------------------------------------------------------------------------------

export const PROCESSED_FOLDER = 'processed';
export const FAILED_FOLDER = 'failed';
export const ERROR_SUFFIX = '.error.txt';
/** Files modified more recently than this are left for a later pass: their writer may not be done. */
export const DEFAULT_SETTLE_MS = 1_000;

export interface FolderOptions<T> {
  /** The folder Identity Manager writes its order files (`*.json`) into. */
  readonly dir: string;
  readonly connection: string;
  /**
   * Starts one order. It must be idempotent (the same order gives the same workflow, started or attached to):
   * a file is retried whole until every start it holds was acknowledged.
   */
  readonly start: (input: ProvisioningInput) => Promise<T>;
  readonly settleMs?: number;
  /** Stops the pass before the next start; the current file stays in place and is retried whole later. */
  readonly signal?: AbortSignal;
  readonly now?: () => number;
}

export interface StartedFromFile<T> {
  readonly input: ProvisioningInput;
  readonly result: T;
}

export type FileOutcome<T> =
  /** Every order was acknowledged; the file is now `movedTo` (in processed/). */
  | {
      readonly kind: 'processed';
      readonly file: string;
      readonly movedTo: string;
      readonly started: readonly StartedFromFile<T>[];
    }
  /** The file failed validation: nothing was started; it is now `movedTo` (in failed/), explained in `errorFile`. */
  | {
      readonly kind: 'invalid';
      readonly file: string;
      readonly movedTo: string;
      readonly errorFile: string;
      readonly problems: readonly string[];
    }
  /**
   * The file stays where it is and is retried whole on the next pass: a start failed or was interrupted
   * (`failedOrder` is its index), or the file could not be moved after every start was acknowledged.
   */
  | {
      readonly kind: 'retry';
      readonly file: string;
      readonly reason: string;
      readonly total: number;
      readonly started: readonly StartedFromFile<T>[];
      readonly failedOrder?: number;
    }
  /** The file could not be read (permissions...); later files are still processed. */
  | { readonly kind: 'unreadable'; readonly file: string; readonly reason: string };

export interface PassReport<T> {
  readonly files: readonly FileOutcome<T>[];
  /** Modified less than `settleMs` ago: left for a later pass. */
  readonly settling: readonly string[];
  /** Left untouched because the pass stopped early (a failed start, or the signal): order is preserved. */
  readonly notReached: readonly string[];
  /** Why the pass stopped early, if it did. */
  readonly stoppedBy?: 'start-failure' | 'signal';
}

interface Candidate {
  readonly name: string;
  readonly mtimeMs: number;
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function codeOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

/** Order files waiting in the folder, oldest first (then by name): `*.json` regular files, no dot files. */
async function candidates(dir: string): Promise<Candidate[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const found: Candidate[] = [];
  for (const entry of entries) {
    if (!entry.isFile() || entry.name.startsWith('.') || !/\.json$/i.test(entry.name)) continue;
    try {
      found.push({ name: entry.name, mtimeMs: (await stat(path.join(dir, entry.name))).mtimeMs });
    } catch (error) {
      if (codeOf(error) !== 'ENOENT') throw error;
    }
  }
  return found.sort((a, b) => a.mtimeMs - b.mtimeMs || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return false;
    throw error;
  }
}

/** `name`, or `base-1.ext`, `base-2.ext`... whichever is free in `dir`. */
export async function freeName(dir: string, name: string): Promise<string> {
  const ext = path.extname(name);
  const base = name.slice(0, name.length - ext.length);
  for (let n = 0; ; n += 1) {
    const candidate = n === 0 ? name : `${base}-${n}${ext}`;
    if (!(await exists(path.join(dir, candidate)))) return candidate;
  }
}

/**
 * Moves a file into a subfolder of its folder under a free name: one rename, atomic on one filesystem. Only one
 * fulfill process may own a folder: a second one could pick the same free name between the check and the rename.
 */
async function moveInto(dir: string, subfolder: string, name: string): Promise<string> {
  const targetDir = path.join(dir, subfolder);
  await mkdir(targetDir, { recursive: true });
  const target = path.join(targetDir, await freeName(targetDir, name));
  await rename(path.join(dir, name), target);
  return target;
}

async function writeAtomically(file: string, text: string): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, text, 'utf8');
  await rename(temporary, file);
}

export function errorReport(name: string, problems: readonly string[], at: Date): string {
  return [
    `${name} was not processed: ${problems.length} problem${problems.length === 1 ? '' : 's'}; no order in it was started.`,
    'Fix the file and put it back into the orders folder to process it again.',
    '',
    ...problems.map((problem) => `  - ${problem}`),
    '',
    `Checked by snow-ticket fulfill at ${at.toISOString()}.`,
    '',
  ].join('\n');
}

async function failFile(
  dir: string,
  name: string,
  problems: readonly string[],
  at: Date,
): Promise<FileOutcome<never>> {
  const failedDir = path.join(dir, FAILED_FOLDER);
  await mkdir(failedDir, { recursive: true });
  const target = await freeName(failedDir, name);
  const errorFile = path.join(failedDir, `${target}${ERROR_SUFFIX}`);
  // The explanation first: a crash before the move leaves the file in place, and the next pass rewrites both.
  await writeAtomically(errorFile, errorReport(name, problems, at));
  const movedTo = path.join(failedDir, target);
  await rename(path.join(dir, name), movedTo);
  return { kind: 'invalid', file: name, movedTo, errorFile, problems };
}

/**
 * One pass over the folder. Crash safety rests on two things: a file leaves the folder (one atomic rename into
 * processed/) only after every start it holds was acknowledged, and starts are idempotent. Whatever happens
 * before that rename (a failed start, a crash, Ctrl-C), the file is still there and the next pass starts all its
 * orders again; those already started are attached to, not duplicated. A failed start stops the pass, so a later
 * file (say, a Deleted order) never overtakes an earlier one (the Added order it should supersede).
 */
export async function processOrdersFolder<T>(options: FolderOptions<T>): Promise<PassReport<T>> {
  const { dir, connection, start, signal } = options;
  const settleMs = options.settleMs ?? DEFAULT_SETTLE_MS;
  const now = options.now ?? Date.now;
  const files: FileOutcome<T>[] = [];
  const settling: string[] = [];
  const found = await candidates(dir);
  const passStartedAt = now();

  for (const [index, { name, mtimeMs }] of found.entries()) {
    if (signal?.aborted) {
      return { files, settling, notReached: found.slice(index).map((c) => c.name), stoppedBy: 'signal' };
    }
    if (passStartedAt - mtimeMs < settleMs) {
      settling.push(name);
      continue;
    }
    let text: string;
    try {
      text = await readFile(path.join(dir, name), 'utf8');
    } catch (error) {
      if (codeOf(error) === 'ENOENT') continue; // moved away meanwhile
      files.push({ kind: 'unreadable', file: name, reason: reasonOf(error) });
      continue;
    }
    const parsed = parseOrderText(text, { connection });
    if (!parsed.ok) {
      try {
        files.push(await failFile(dir, name, parsed.problems, new Date(now())));
      } catch (error) {
        files.push({
          kind: 'retry',
          file: name,
          reason: `cannot move it to ${FAILED_FOLDER}/: ${reasonOf(error)}`,
          total: 0,
          started: [],
        });
      }
      continue;
    }
    const started: StartedFromFile<T>[] = [];
    let failure: { reason: string; order: number; by: 'start-failure' | 'signal' } | undefined;
    for (const [order, input] of parsed.inputs.entries()) {
      if (signal?.aborted) {
        failure = { reason: 'interrupted before all its orders were started', order, by: 'signal' };
        break;
      }
      try {
        started.push({ input, result: await start(input) });
      } catch (error) {
        failure = { reason: reasonOf(error), order, by: signal?.aborted ? 'signal' : 'start-failure' };
        break;
      }
    }
    if (failure !== undefined) {
      files.push({
        kind: 'retry',
        file: name,
        reason: failure.reason,
        total: parsed.inputs.length,
        started,
        failedOrder: failure.order,
      });
      return {
        files,
        settling,
        notReached: found.slice(index + 1).map((c) => c.name),
        stoppedBy: failure.by,
      };
    }
    try {
      files.push({
        kind: 'processed',
        file: name,
        movedTo: await moveInto(dir, PROCESSED_FOLDER, name),
        started,
      });
    } catch (error) {
      if (codeOf(error) === 'ENOENT' && !(await exists(path.join(dir, name)))) continue; // moved away meanwhile
      files.push({
        kind: 'retry',
        file: name,
        reason: `every order was acknowledged but the file cannot be moved to ${PROCESSED_FOLDER}/: ${reasonOf(error)}`,
        total: parsed.inputs.length,
        started,
      });
    }
  }
  return { files, settling, notReached: [] };
}

export interface WatchOptions<T> extends FolderOptions<T> {
  readonly intervalMs: number;
  readonly signal: AbortSignal;
  readonly onPass: (report: PassReport<T>) => void;
  /** A pass that could not even list the folder; the loop goes on. */
  readonly onError: (error: unknown) => void;
}

/** Passes every `intervalMs` until the signal is aborted; resolves once the pass in progress has stopped. */
export async function watchOrdersFolder<T>(options: WatchOptions<T>): Promise<void> {
  const { signal, intervalMs } = options;
  while (!signal.aborted) {
    try {
      options.onPass(await processOrdersFolder(options));
    } catch (error) {
      options.onError(error);
    }
    try {
      await sleep(intervalMs, undefined, { signal });
    } catch (error) {
      if (signal.aborted) return;
      throw error;
    }
  }
}
