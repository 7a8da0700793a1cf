import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { LedgerError } from '../../src/assignments/ledgerError';
import { LEDGER_MIGRATIONS, migrateLedger } from '../../src/assignments/ledgerMigrations';
import { openLedger, type SqliteLedger } from '../../src/assignments/sqliteLedger';
import type { AssignmentTransition } from '../../src/assignments/store';
import { TEST_TICKET, testTransition } from '../helpers/assignments';
import { tempDir } from '../helpers/files';
import { failureOf } from '../helpers/serviceNowErrors';

const dir = tempDir('assignment-ledger-test-');
let files = 0;

/** A fresh ledger file in a folder that does not exist yet, closed when the test ends. */
function freshLedger(t: { after: (fn: () => Promise<void>) => void }): SqliteLedger {
  files += 1;
  const ledger = openLedger(path.join(dir, `run-${files}`, 'nested', 'assignments.sqlite'));
  t.after(() => ledger.close());
  return ledger;
}

/** With the ticket's state label, which the ledger keeps with the ticket. */
function transition(overrides: Partial<AssignmentTransition> = {}): AssignmentTransition {
  return testTransition({ ticket: { ...TEST_TICKET, state: 'New' }, ...overrides });
}

function ledgerFailure(action: () => Promise<unknown>): Promise<LedgerError> {
  return failureOf(LedgerError, action);
}

describe('SQLite assignment ledger', () => {
  test('records a transition once: the repeat is a no-op answering applied: false', async (t) => {
    const ledger = freshLedger(t);
    assert.deepEqual(await ledger.record(transition()), { applied: true });
    assert.deepEqual(await ledger.record(transition()), { applied: false });
    assert.equal((await ledger.history('order-1')).length, 1);
  });

  test('the file is SQLite in WAL mode, at the current schema version', async (t) => {
    const ledger = freshLedger(t);
    await ledger.record(transition());
    const raw = new Database(ledger.file, { readonly: true });
    t.after(() => raw.close());
    assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(raw.pragma('user_version', { simple: true }), LEDGER_MIGRATIONS.length);
    assert.equal(raw.prepare('SELECT count(*) FROM transitions').pluck().get(), 1);
  });

  test('an order goes from Transmitted to its result, keeping the ticket and the result detail', async (t) => {
    const ledger = freshLedger(t);
    await ledger.record(transition());
    const detail = { closeCode: 'Solved', closeNotes: 'Role granted', closedBy: 'fulfiller' };
    const executed = transition({
      state: 'Executed',
      ticket: undefined,
      detail,
      at: '2024-05-01T14:00:00+02:00',
    });
    assert.deepEqual(await ledger.record(executed), { applied: true });
    const [view] = await ledger.list();
    assert.deepEqual(view, {
      orderId: 'order-1',
      assignmentId: '42',
      connection: 'Main',
      resourceType: 'SAP_Role',
      changeType: 'Added',
      state: 'Executed',
      ticket: transition().ticket,
      detail,
      createdAt: '2024-05-01T10:00:00.000Z',
      updatedAt: '2024-05-01T12:00:00.000Z',
    });
  });

  test('no backward move: a Transmitted after a final state is ignored and not kept', async (t) => {
    const ledger = freshLedger(t);
    for (const final of ['Errored', 'Executed', 'Verified'] as const) {
      const orderId = `late-${final}`;
      await ledger.record(transition({ orderId, state: final, detail: { reason: 'ticket canceled' } }));
      assert.deepEqual(await ledger.record(transition({ orderId, at: '2024-05-02T00:00:00.000Z' })), {
        applied: false,
      });
      const [view] = await ledger.list({ assignmentId: '42', state: final });
      assert.equal(view?.orderId, orderId);
      assert.equal(view.updatedAt, '2024-05-01T10:00:00.000Z');
      assert.deepEqual(view.detail, { reason: 'ticket canceled' });
      assert.deepEqual(
        (await ledger.history(orderId)).map((step) => step.state),
        [final],
      );
    }
  });

  test('a different final state after a final state wins, and each is in the history', async (t) => {
    const ledger = freshLedger(t);
    await ledger.record(transition());
    await ledger.record(transition({ state: 'Errored', at: '2024-05-01T11:00:00.000Z' }));
    assert.deepEqual(await ledger.record(transition({ state: 'Verified', at: '2024-05-01T12:00:00.000Z' })), {
      applied: true,
    });
    assert.deepEqual(await ledger.record(transition({ state: 'Errored', at: '2024-05-01T13:00:00.000Z' })), {
      applied: false,
    });
    const [view] = await ledger.list();
    assert.equal(view?.state, 'Verified');
    assert.equal(view.updatedAt, '2024-05-01T12:00:00.000Z');
    const history = await ledger.history('order-1');
    assert.deepEqual(
      history.map((step) => [step.state, step.at]),
      [
        ['Transmitted', '2024-05-01T10:00:00.000Z'],
        ['Errored', '2024-05-01T11:00:00.000Z'],
        ['Verified', '2024-05-01T12:00:00.000Z'],
      ],
    );
    assert.deepEqual(history[0], transition());
  });

  test('list filters by state, connection and assignment, newest update first, with a limit', async (t) => {
    const ledger = freshLedger(t);
    for (let i = 1; i <= 6; i += 1) {
      await ledger.record(
        transition({
          orderId: `order-${i}`,
          assignmentId: i <= 3 ? 'A' : 'B',
          connection: i % 2 === 0 ? 'Even' : 'Odd',
          at: `2024-05-0${i}T10:00:00.000Z`,
        }),
      );
    }
    await ledger.record(
      transition({
        orderId: 'order-2',
        connection: 'Even',
        assignmentId: 'A',
        state: 'Executed',
        at: '2024-05-09T00:00:00.000Z',
      }),
    );
    const ids = (views: { orderId: string }[]) => views.map((view) => view.orderId);
    assert.deepEqual(ids(await ledger.list()), [
      'order-2',
      'order-6',
      'order-5',
      'order-4',
      'order-3',
      'order-1',
    ]);
    assert.deepEqual(ids(await ledger.list({ state: 'Transmitted', connection: 'Odd' })), [
      'order-5',
      'order-3',
      'order-1',
    ]);
    assert.deepEqual(ids(await ledger.list({ assignmentId: 'A' })), ['order-2', 'order-3', 'order-1']);
    assert.deepEqual(ids(await ledger.list({ state: 'Executed' })), ['order-2']);
    assert.deepEqual(ids(await ledger.list({ limit: 2 })), ['order-2', 'order-6']);
    assert.deepEqual(await ledger.list({ connection: 'Nobody' }), []);
  });

  test('history is empty for an unknown order, oldest first otherwise', async (t) => {
    const ledger = freshLedger(t);
    assert.deepEqual(await ledger.history('never-seen'), []);
  });

  test('bad input is refused with a typed error naming the field', async (t) => {
    const ledger = freshLedger(t);
    const badState = await ledgerFailure(() => ledger.record(transition({ state: 'Done' as never })));
    assert.equal(badState.kind, 'invalid-input');
    assert.equal(badState.retryable, false);
    assert.match(
      badState.message,
      /transition\.state: must be one of Transmitted, Executed, Verified, Errored/,
    );
    const badTime = await ledgerFailure(() => ledger.record(transition({ at: 'yesterday' })));
    assert.match(badTime.message, /transition\.at: must be an ISO 8601 date and time/);
    for (const limit of [0, 10_001, 1.5]) {
      const error = await ledgerFailure(() => ledger.list({ limit }));
      assert.match(error.message, /query\.limit/);
    }
    assert.equal((await ledgerFailure(() => ledger.history(''))).kind, 'invalid-input');
    assert.deepEqual(await ledger.list(), []);
  });

  test('an order recorded with another assignment is a conflict, not an update', async (t) => {
    const ledger = freshLedger(t);
    await ledger.record(transition());
    const error = await ledgerFailure(() =>
      ledger.record(transition({ state: 'Executed', assignmentId: '43' })),
    );
    assert.equal(error.kind, 'conflict');
    assert.match(error.message, /order "order-1" was recorded with another assignmentId/);
    assert.equal((await ledger.list())[0]?.state, 'Transmitted');
  });

  test('a second connection reads what the first writes, and both may write', async (t) => {
    const writer = freshLedger(t);
    const reader = openLedger(writer.file);
    t.after(() => reader.close());
    for (let i = 1; i <= 20; i += 1) {
      await writer.record(transition({ orderId: `w-${i}` }));
      assert.equal((await reader.list({ limit: 10_000 })).length, i);
      if (i % 5 === 0) await reader.record(transition({ orderId: `w-${i}`, state: 'Executed' }));
    }
    assert.equal((await writer.list({ state: 'Executed' })).length, 4);
  });

  test('another process writes while this one reads', async (t) => {
    const ledger = freshLedger(t);
    await ledger.record(transition({ orderId: 'parent' }));
    const script = `
      const { openLedger } = require(${JSON.stringify(path.resolve(__dirname, '../../src/assignments/sqliteLedger'))});
      (async () => {
        const ledger = openLedger(${JSON.stringify(ledger.file)});
        for (let i = 0; i < 50; i += 1) {
          await ledger.record({ orderId: 'child-' + i, assignmentId: '7', connection: 'Main', resourceType: 'R',
            changeType: 'Deleted', state: 'Transmitted', at: new Date(Date.UTC(2024, 5, 1, 0, i)).toISOString() });
        }
        await ledger.close();
      })().catch((error) => { console.error(error.message); process.exit(1); });
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    let seen = 0;
    let running = true;
    void exited.then(() => (running = false));
    // Bounded: the child writes 50 rows; each read must see a consistent, growing set while it does.
    for (let reads = 0; running && reads < 100_000; reads += 1) {
      const count = (await ledger.list({ connection: 'Main', limit: 10_000 })).length;
      assert.ok(count >= seen, 'a reader never sees rows disappear');
      seen = count;
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(await exited, 0, stderr);
    assert.equal((await ledger.list({ assignmentId: '7', limit: 10_000 })).length, 50);
    assert.deepEqual(await ledger.record(transition({ orderId: 'parent', state: 'Executed' })), {
      applied: true,
    });
  });

  test('a file that is not SQLite gives a typed error naming the file', async () => {
    const file = path.join(dir, 'not-a-ledger.sqlite');
    writeFileSync(file, 'this is a text file, long enough to have a header that is not SQLite\n'.repeat(20));
    assert.throws(
      () => openLedger(file),
      (error: unknown) =>
        error instanceof LedgerError &&
        error.kind === 'corrupt' &&
        error.file === file &&
        error.message.includes(file) &&
        /not a SQLite database/.test(error.message),
    );
  });

  test('a SQLite file of another application is not taken for a ledger', () => {
    const file = path.join(dir, 'other-app.sqlite');
    const other = new Database(file);
    other.exec('CREATE TABLE things (id INTEGER)');
    other.close();
    assert.throws(
      () => openLedger(file),
      (error: unknown) => error instanceof LedgerError && error.kind === 'corrupt',
    );
  });

  test('a file from a newer connector is refused rather than misread', async () => {
    const file = path.join(dir, 'newer.sqlite');
    await openLedger(file).close();
    const raw = new Database(file);
    raw.pragma(`user_version = ${LEDGER_MIGRATIONS.length + 1}`);
    raw.close();
    assert.throws(
      () => openLedger(file),
      (error: unknown) => error instanceof LedgerError && error.kind === 'unsupported-version',
    );
  });

  test('a later schema version migrates an existing file and keeps its rows', async () => {
    const file = path.join(dir, 'migrated.sqlite');
    const ledger = openLedger(file);
    await ledger.record(transition());
    await ledger.close();
    const raw = new Database(file);
    const next = [
      ...LEDGER_MIGRATIONS,
      (db: Database.Database) => db.exec('ALTER TABLE assignments ADD COLUMN note TEXT'),
    ];
    migrateLedger(raw, file, next);
    assert.equal(raw.pragma('user_version', { simple: true }), next.length);
    assert.equal(raw.prepare('SELECT count(*) FROM assignments WHERE note IS NULL').pluck().get(), 1);
    raw.close();
  });

  test('a missing file is an error when it must exist, and close is idempotent', async () => {
    const file = path.join(dir, 'absent', 'assignments.sqlite');
    assert.throws(
      () => openLedger(file, { mustExist: true }),
      (error: unknown) => error instanceof LedgerError && error.kind === 'io' && error.message.includes(file),
    );
    const ledger = openLedger(path.join(dir, 'closing.sqlite'));
    await ledger.close();
    await ledger.close();
    assert.equal((await ledgerFailure(() => ledger.list())).kind, 'closed');
  });
});
