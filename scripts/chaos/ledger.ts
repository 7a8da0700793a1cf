import { childEnv, runNode } from './children';

/** The fields of `snow-ticket assignments --json` this script reads. */
export interface LedgerRow {
  readonly orderId: string;
  readonly assignmentId: string;
  readonly state: string;
  readonly ticket?: { readonly number: string; readonly table?: string; readonly state?: string };
}

/** Every assignment of the SQLite ledger, read as an operator would: `snow-ticket assignments --json`. */
export async function readLedger(settingsFile: string): Promise<LedgerRow[]> {
  const result = await runNode(
    'src/cli/main.ts',
    ['--config', settingsFile, 'assignments', '--json', '--limit', '10000'],
    { env: childEnv(), timeoutMs: 120_000 },
  );
  if (result.exit.code !== 0) {
    throw new Error(
      `snow-ticket assignments failed (${result.exit.signal ?? `exit ${result.exit.code}`}): ${result.stderr.trim()}`,
    );
  }
  return JSON.parse(result.stdout) as LedgerRow[];
}
