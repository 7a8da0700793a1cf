/** `snow-ticket` run as a child process, as an operator runs it, for the end-to-end CLI tests. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import path from 'node:path';
import type { Readable } from 'node:stream';

const repo = path.join(__dirname, '..', '..');
const main = path.join(repo, 'src', 'cli', 'main.ts');
const CHILD_TIMEOUT_MS = 120_000;

export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  /** Added to the cleaned parent environment. */
  readonly env?: Record<string, string>;
  /** Written to the child's stdin, which is then closed (empty by default). */
  readonly input?: string;
}

/** The parent's environment without anything that would steer the child elsewhere (Temporal, settings, simulator). */
export const cleanEnv = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !/^(TEMPORAL_|SNOW_)/.test(name)),
);

/** Starts the CLI with `args`; stdin is ignored, stdout and stderr are piped. */
export function spawnCli(
  args: readonly string[],
  env: Record<string, string> = {},
): ChildProcessByStdio<null, Readable, Readable> {
  return spawn(process.execPath, ['--import', 'tsx', main, ...args], {
    cwd: repo,
    env: { ...cleanEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs the CLI to its end (killed after two minutes) and collects its exit status and output. */
export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise<CliResult>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', main, ...args], {
      cwd: repo,
      env: { ...cleanEnv, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Asserts a zero exit status, showing the output otherwise. */
export function ok(result: CliResult): CliResult {
  assert.equal(result.status, 0, `exit ${result.status}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  return result;
}

/** The JSON printed by a successful run. */
export function jsonOf<T>(result: CliResult): T {
  return JSON.parse(ok(result).stdout) as T;
}
