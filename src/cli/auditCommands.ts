import { writeFileSync } from 'node:fs';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { Command } from 'commander';
import {
  historyFilesIn,
  HistoryError,
  inRunOrder,
  loadHistoryFile,
  type RunHistory,
} from '../audit/histories';
import {
  assertKeysAvailable,
  encryptionKeyIds,
  HistoryKeysMissingError,
  openHistory,
} from '../audit/historyDecoding';
import { replayHistories, summarise, type ReplayOutcome } from '../audit/replay';
import { buildTimeline } from '../audit/timeline';
import { renderTimeline } from '../audit/timelineText';
import { ALL_ORDERS_QUERY, fetchMatchingHistories, fetchRunHistories } from '../client/histories';
import type { Client } from '../client/session';
import { connectorDataConverter } from '../codec/dataConverters';
import type { Keyring } from '../codec/keyring';
import { PayloadDecryptionError } from '../codec/payloadCodec';
import { payloadKeyring } from '../platform/encryption';
import type { SettingsFile } from '../config/schema';
import { usageErrorsExit2, wholeNumber } from './cliOutput';
import { CliError } from './errors';
import { loadCliConfig } from './loadCliConfig';
import { cliEncryption, withTemporal } from './temporalClient';

/** `snow-ticket audit` and `snow-ticket replay`: what a provisioning order did, and whether the code still fits. */

const DEFAULT_REPLAY_LIMIT = 100;
const MAX_REPLAY_LIMIT = 10_000;

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/**
 * The command's settings, read on first use and then kept: reading them asks every credential store, and a
 * command may need them twice (a client, then the keys of what it read), or not at all (plain history files).
 */
function settingsOnce(command: Command): () => Promise<SettingsFile> {
  let loaded: Promise<SettingsFile> | undefined;
  return () => (loaded ??= loadCliConfig(command).then(({ settings }) => settings));
}

/** Runs `work` with a client of the configured Temporal cluster, closing the connection after. */
async function withClient<T>(
  settingsOf: () => Promise<SettingsFile>,
  work: (client: Client) => Promise<T>,
): Promise<T> {
  return withTemporal(await settingsOf(), async ({ client }) => {
    try {
      return await work(client);
    } catch (error) {
      if (error instanceof HistoryError) throw new CliError(error.message);
      throw error;
    }
  });
}

function loadFiles(files: readonly string[]): RunHistory[] {
  try {
    return files.map(loadHistoryFile);
  } catch (error) {
    if (error instanceof HistoryError) throw new CliError(error.message, 2);
    throw error;
  }
}

function filesOfDir(dir: string): string[] {
  try {
    return historyFilesIn(dir);
  } catch (error) {
    if (error instanceof HistoryError) throw new CliError(error.message, 2);
    throw error;
  }
}

/**
 * The payload keys of the settings, to open encrypted histories (server or file alike); undefined when no run
 * is encrypted, so that reading plain history files needs no settings at all.
 */
async function keyringFor(
  runs: readonly RunHistory[],
  settingsOf: () => Promise<SettingsFile>,
): Promise<Keyring | undefined> {
  if (runs.every((run) => encryptionKeyIds(run.history).length === 0)) return undefined;
  return payloadKeyring(cliEncryption(await settingsOf()));
}

function runName(run: RunHistory): string {
  const id = run.workflowId === '' ? 'a workflow' : run.workflowId;
  return `The history of ${id}${run.source === 'server' ? '' : ` (${run.source})`}`;
}

/** Encrypted payloads opened with the configured keys; a missing or wrong key is an operator-ready error. */
async function openRuns(
  runs: readonly RunHistory[],
  settingsOf: () => Promise<SettingsFile>,
): Promise<RunHistory[]> {
  const keyring = await keyringFor(runs, settingsOf);
  if (keyring === undefined) return [...runs];
  try {
    for (const run of runs) await openHistory(run.history, keyring, runName(run));
    return [...runs];
  } catch (error) {
    throw keyErrorOf(error);
  }
}

/** Replays decode payloads as the worker does; they only need every key at hand, checked before replaying. */
function checkKeys(runs: readonly RunHistory[], keyring: Keyring): void {
  try {
    for (const run of runs) assertKeysAvailable(run.history, keyring, runName(run));
  } catch (error) {
    throw keyErrorOf(error);
  }
}

function keyErrorOf(error: unknown): unknown {
  if (error instanceof HistoryKeysMissingError) return new CliError(error.message, 2);
  if (error instanceof PayloadDecryptionError) return new CliError(error.message);
  return error;
}

/** The replay worker logs its state changes at INFO; a command's output is the report, so only warnings show. */
function quietWorkerLogs(): void {
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // Already installed (tests, or a second command in the same process): keep it.
  }
}

function write(text: string, output: string | undefined): void {
  if (output === undefined) process.stdout.write(text);
  else writeFileSync(output, text);
}

const STATUS_LABEL: Readonly<Record<ReplayOutcome['status'], string>> = {
  ok: 'OK',
  nondeterministic: 'NON-DETERMINISTIC',
  failed: 'FAILED',
};

function describeOutcome(outcome: ReplayOutcome): string {
  const where = outcome.source === 'server' ? '' : `  (${outcome.source})`;
  const run = outcome.runId === '' ? '' : ` run ${outcome.runId}`;
  const head = `${STATUS_LABEL[outcome.status].padEnd(17)}  ${outcome.workflowId}${run}${where}`;
  return outcome.message === undefined ? head : `${head}\n    ${outcome.message.replace(/\n/g, '\n    ')}`;
}

interface AuditOptions {
  file?: string[];
  runId?: string;
  json?: boolean;
  output?: string;
  allChecks?: boolean;
}

interface ReplayOptions {
  workflowId?: string[];
  query?: string;
  limit: number;
  file?: string[];
  dir?: string[];
  json?: boolean;
}

export function registerAuditCommands(program: Command): void {
  const audit = program
    .command('audit [workflowId]')
    .description(
      "timeline of a provisioning order from its Temporal history, across continue-as-new runs: order, ticket, checks, signals, cancel requests, reminders, the assignment's states and the end",
    )
    .option(
      '--run-id <runId>',
      'the execution chain holding this run (default: the latest one of the workflow id)',
    )
    .option(
      '--file <history.json>',
      'read the runs from history files (temporal workflow show --output json, Web UI download) instead of the server; repeat for each run',
      collect,
    )
    .option('--json', 'print the timeline as JSON (every check kept, with structured data)')
    .option('--output <file>', 'write to this file instead of the standard output')
    .option('--all-checks', 'one line per status check, even when nothing changed')
    .addHelpText(
      'after',
      `
Examples:
  $ snow-ticket audit Main:4711:added:3f2a9c01b7de
  $ snow-ticket audit Main:4711:added:3f2a9c01b7de --json --output audit-4711.json
  $ snow-ticket audit --file run1.json --file run2.json     # histories downloaded from the Web UI`,
    )
    .action(async (workflowId: string | undefined, options: AuditOptions, command: Command) => {
      const files = options.file ?? [];
      if ((workflowId === undefined) === (files.length === 0)) {
        throw new CliError(
          'Give either a workflow id (read from Temporal) or --file history files, not both',
          2,
        );
      }
      const settingsOf = settingsOnce(command);
      const runs =
        workflowId === undefined
          ? inRunOrder(loadFiles(files))
          : await withClient(settingsOf, (client) =>
              fetchRunHistories(client, workflowId, { runId: options.runId }),
            );
      const timeline = buildTimeline(await openRuns(runs, settingsOf));
      const text = options.json
        ? `${JSON.stringify(timeline, null, 2)}\n`
        : renderTimeline(timeline, { collapseChecksFrom: options.allChecks ? 0 : undefined });
      write(text, options.output);
    });

  usageErrorsExit2(audit);

  const replay = program
    .command('replay')
    .description(
      'replay workflow histories against the current workflow code and report each one OK or non-deterministic (exit 1 if any is not OK); by default the provisioning workflows on the server',
    )
    .option('--workflow-id <id>', 'every run of this workflow id, from the server (repeatable)', collect)
    .option(
      '--query <visibility query>',
      `executions matching this visibility query, from the server (default when no source is given: ${ALL_ORDERS_QUERY})`,
    )
    .option(
      '--limit <n>',
      'at most this many histories from --query',
      wholeNumber(1, MAX_REPLAY_LIMIT),
      DEFAULT_REPLAY_LIMIT,
    )
    .option('--file <history.json>', 'a history file (repeatable)', collect)
    .option('--dir <folder>', 'every .json history file of this folder (repeatable)', collect)
    .option('--json', 'print the results as JSON')
    .addHelpText(
      'after',
      `
Exit code 1 when any history does not replay: the workflow code changed in a way that needs patched().

Examples:
  $ snow-ticket replay                                       # every provisioningWorkflow the server keeps (limited)
  $ snow-ticket replay --workflow-id Main:4711:added:3f2a9c01b7de
  $ snow-ticket replay --dir test/histories --file exported.json`,
    )
    .action(async (options: ReplayOptions, command: Command) => {
      const files = [...(options.dir ?? []).flatMap(filesOfDir), ...(options.file ?? [])];
      const ids = options.workflowId ?? [];
      const query = options.query ?? (ids.length === 0 && files.length === 0 ? ALL_ORDERS_QUERY : undefined);
      const histories = loadFiles(files);
      const settingsOf = settingsOnce(command);
      let limitReached = false;
      if (ids.length > 0 || query !== undefined) {
        await withClient(settingsOf, async (client) => {
          for (const id of ids) histories.push(...(await fetchRunHistories(client, id)));
          if (query === undefined) return;
          const matching = await fetchMatchingHistories(client, query, options.limit);
          histories.push(...matching.histories);
          limitReached = matching.limitReached;
        });
      }
      if (histories.length === 0) {
        console.log(`No history to replay${query === undefined ? '' : ` (nothing matches ${query})`}.`);
        return;
      }
      const keyring = await keyringFor(histories, settingsOf);
      if (keyring !== undefined) checkKeys(histories, keyring);
      quietWorkerLogs();
      const outcomes = await replayHistories(histories, {
        dataConverter:
          keyring === undefined ? undefined : connectorDataConverter(keyring, { encrypt: false }),
      });
      const summary = summarise(outcomes);
      if (options.json) {
        console.log(JSON.stringify({ summary, limitReached, outcomes }, null, 2));
      } else {
        for (const outcome of outcomes) console.log(describeOutcome(outcome));
        console.log(
          `${summary.total} replayed: ${summary.ok} OK, ${summary.nondeterministic} non-deterministic, ${summary.failed} failed` +
            (limitReached ? ` (stopped at --limit ${options.limit})` : ''),
        );
      }
      if (summary.ok < summary.total) {
        throw new CliError(
          `${summary.total - summary.ok} of ${summary.total} histories do not replay with the current workflow code`,
        );
      }
    });
  usageErrorsExit2(replay);
}
