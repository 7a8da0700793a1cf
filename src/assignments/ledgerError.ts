/** Why the ledger refused: a caller's bad input, a file it cannot use, or an order that contradicts itself. */
export type LedgerErrorKind =
  /** The transition or query does not have the documented shape. */
  | 'invalid-input'
  /** The transition names the order with another assignment, connection, resource type or change type. */
  | 'conflict'
  /** The file is not a SQLite database, or its content does not have the ledger's shape. */
  | 'corrupt'
  /** The file was written by a newer connector with a schema this version does not know. */
  | 'unsupported-version'
  /** The file cannot be opened, created, locked or written (permissions, disk full, held too long). */
  | 'io'
  | 'closed';

export class LedgerError extends Error {
  readonly kind: LedgerErrorKind;
  readonly file: string;
  /**
   * Only bad input and contradicting orders fail the same way however often they are retried. A file problem
   * is an operator's to fix, and the order must survive until then.
   */
  readonly retryable: boolean;

  constructor(kind: LedgerErrorKind, file: string, reason: string) {
    super(`Assignment ledger ${file}: ${reason}`);
    this.name = 'LedgerError';
    this.kind = kind;
    this.file = file;
    this.retryable = kind !== 'invalid-input' && kind !== 'conflict';
  }
}

/** A library or file system failure in the ledger's words; SQLite's messages hold no secrets, only SQL. */
export function ledgerFailure(error: unknown, file: string, busyTimeoutMs: number): LedgerError {
  if (error instanceof LedgerError) return error;
  const code =
    typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : '';
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
    return new LedgerError('corrupt', file, `is not a SQLite database or is damaged (${message})`);
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new LedgerError(
      'io',
      file,
      `stayed locked by another connection for more than ${busyTimeoutMs} ms`,
    );
  }
  if (code.startsWith('SQLITE_CANTOPEN')) {
    return new LedgerError(
      'io',
      file,
      `cannot be opened (does it exist, and may this user write its folder?)`,
    );
  }
  if (code.startsWith('SQLITE_READONLY')) {
    return new LedgerError('io', file, `cannot be written (read-only file or folder)`);
  }
  if (code === 'SQLITE_FULL') return new LedgerError('io', file, 'cannot be written: the disk is full');
  return new LedgerError('io', file, code === '' ? message : `${message} (${code})`);
}
