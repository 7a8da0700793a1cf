import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { pause } from './timing';

/** The repository root: children run the project's sources from there. */
export const repoRoot = path.resolve(__dirname, '..', '..');

/** Every child still running, so that none outlives this process, even when it exits on an error path. */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** The parent's environment without anything that would point a child elsewhere (Temporal, settings, simulator). */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const kept = Object.entries(process.env).filter(([name]) => !/^(TEMPORAL_|SNOW_)/.test(name));
  return { ...Object.fromEntries(kept), ...extra };
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface Child {
  readonly name: string;
  readonly pid: number;
  readonly exited: Promise<Exit>;
  isRunning(): boolean;
  /** Calls `listener` with every line the child writes (stdout and stderr). */
  onLine(listener: (line: string) => void): void;
  /** The first line matching `pattern`; fails when the child exits first or after `timeoutMs`. */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  /** Sends `signal` to this child only (by its pid). */
  kill(signal: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it is gone. */
  stop(graceMs?: number): Promise<Exit>;
}

export interface ChildOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Both output streams are appended here. */
  readonly logFile: string;
  /** Runs the child as this user (root only): PostgreSQL refuses to run as root. */
  readonly user?: { readonly uid: number; readonly gid: number };
}

/** Starts `command` with its output going to a log file and to line listeners. */
export function startChild(
  name: string,
  command: string,
  args: readonly string[],
  options: ChildOptions,
): Child {
  const child = spawn(command, args, {
    cwd: repoRoot,
    env: options.env ?? childEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
    ...options.user,
  });
  if (child.pid === undefined) throw new Error(`${name} could not be started (${command})`);
  running.add(child);
  const log = createWriteStream(options.logFile, { flags: 'a' });
  const listeners: ((line: string) => void)[] = [];
  for (const stream of [child.stdout, child.stderr] as Readable[]) {
    stream.pipe(log, { end: false });
    createInterface({ input: stream }).on('line', (line) => {
      for (const listener of listeners) listener(line);
    });
  }
  const exited = new Promise<Exit>((resolve) => {
    child.once('error', () => undefined);
    child.once('close', (code, signal) => {
      running.delete(child);
      log.end();
      resolve({ code, signal });
    });
  });
  const isRunning = () => child.exitCode === null && child.signalCode === null;
  const kill = (signal: NodeJS.Signals) => {
    if (isRunning()) child.kill(signal);
  };
  return {
    name,
    pid: child.pid,
    exited,
    isRunning,
    onLine: (listener) => listeners.push(listener),
    waitForLine: (pattern, timeoutMs) =>
      new Promise<RegExpExecArray>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${name} did not print ${pattern} within ${timeoutMs / 1000} s`)),
          timeoutMs,
        );
        listeners.push((line) => {
          const match = pattern.exec(line);
          if (match !== null) {
            clearTimeout(timer);
            resolve(match);
          }
        });
        void exited.then((exit) => {
          clearTimeout(timer);
          reject(
            new Error(
              `${name} exited (${exit.signal ?? `code ${exit.code}`}) before printing ${pattern}; see ${options.logFile}`,
            ),
          );
        });
      }),
    kill,
    stop: async (graceMs = 15_000) => {
      kill('SIGTERM');
      const forced = new AbortController();
      const gone = await Promise.race([exited, pause(graceMs, forced.signal).then(() => undefined)]);
      forced.abort();
      if (gone !== undefined) return gone;
      kill('SIGKILL');
      return exited;
    },
  };
}

/** A Node child running a TypeScript file of this repository through tsx. */
export function startNodeChild(
  name: string,
  script: string,
  args: readonly string[],
  options: ChildOptions,
): Child {
  return startChild(
    name,
    process.execPath,
    ['--import', 'tsx', path.join(repoRoot, script), ...args],
    options,
  );
}

export interface Finished {
  readonly exit: Exit;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a TypeScript file of this repository to its end (SIGKILLed after `timeoutMs`) and collects its output. */
export function runNode(
  script: string,
  args: readonly string[],
  options: { readonly env?: NodeJS.ProcessEnv; readonly timeoutMs: number },
): Promise<Finished> {
  return new Promise<Finished>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, script), ...args], {
      cwd: repoRoot,
      env: options.env ?? childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ exit: { code, signal }, stdout, stderr });
    });
  });
}
