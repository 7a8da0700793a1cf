import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { ProvisioningInput } from '../../src/contract/order';
import {
  parseOrderDocument,
  parseOrderText,
  processOrdersFolder,
  watchOrdersFolder,
  type PassReport,
} from '../../src/provisioning/orderFiles';
import { tempDir } from '../helpers/files';

/** The fulfill folder protocol with a fake, idempotent start function: our own logic, no Temporal. */

function order(assignment: string | number, changes: Record<string, unknown> = {}) {
  return {
    AssignedResourceTypeId: assignment,
    ChangeType: 'Added',
    Owner: { Id: 42, Identifier: 'jdoe', InternalDisplayName: 'Jane Doe' },
    ResourceType: { Id: 7, Identifier: 'App_Incident' },
    Changes: { Login: 'jdoe' },
    ...changes,
  };
}

/** Starts as the real one does: the same order gives the same id, and a second start attaches. */
class FakeStarter {
  readonly calls: string[] = [];
  private readonly seen = new Set<string>();
  /** Assignment ids whose next start fails (once each), as a server that went down would. */
  readonly failNext = new Set<string>();

  readonly start = async (input: ProvisioningInput) => {
    const id = `${input.connection}:${input.order.AssignedResourceTypeId}:${input.order.ChangeType}`;
    this.calls.push(id);
    if (this.failNext.delete(input.order.AssignedResourceTypeId)) {
      throw new Error('14 UNAVAILABLE: No connection established');
    }
    const started = !this.seen.has(id);
    this.seen.add(id);
    return { workflowId: id, started };
  };
}

let clock = Date.now() - 3_600_000;

/** Writes an order file last modified in the past, each one later than the previous (the folder is oldest first). */
function writeOrderFile(dir: string, name: string, content: unknown, mtimeMs?: number): string {
  const file = path.join(dir, name);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  clock += 1_000;
  const when = new Date(mtimeMs ?? clock);
  utimesSync(file, when, when);
  return file;
}

function folder(): string {
  return tempDir('snow-ticket-orders-');
}

const list = (...orders: unknown[]) => ({ ProvisioningOrdersList: orders });

function kinds(report: PassReport<unknown>): string[] {
  return report.files.map((outcome) => `${outcome.kind} ${outcome.file}`);
}

describe('order documents', () => {
  test('a workflow input, a bare order and a ProvisioningOrdersList are all accepted', () => {
    const input = parseOrderDocument({ connection: 'Main', order: order(1) });
    assert.ok(input.ok);
    assert.equal(input.kind, 'workflow-input');
    assert.equal(input.inputs[0]?.order.AssignedResourceTypeId, '1');

    const bare = parseOrderDocument(order(2), { connection: 'Main' });
    assert.ok(bare.ok);
    assert.equal(bare.kind, 'order');
    assert.deepEqual(
      bare.inputs.map((i) => [i.connection, i.order.AssignedResourceTypeId]),
      [['Main', '2']],
    );

    const many = parseOrderDocument(list(order(3), order(4)), { connection: 'Main' });
    assert.ok(many.ok);
    assert.equal(many.kind, 'orders-list');
    assert.deepEqual(
      many.inputs.map((i) => i.order.AssignedResourceTypeId),
      ['3', '4'],
    );
  });

  test('every problem of every order is reported, with its place in the file', () => {
    const parsed = parseOrderDocument(
      list(order(1), order(2, { Owner: undefined }), order(3, { ChangeType: 'Renamed' })),
      { connection: 'Main' },
    );
    assert.ok(!parsed.ok);
    assert.equal(parsed.problems.length, 2);
    assert.match(
      parsed.problems[0] ?? '',
      /^orders\[1\]\.order\.Owner: must be an object describing the identity/,
    );
    assert.match(
      parsed.problems[1] ?? '',
      /^orders\[2\]\.order\.ChangeType: must be "Added", "Modified" or "Deleted"$/,
    );
  });

  test('bare orders and lists need the connection; a workflow input may not contradict it', () => {
    for (const document of [order(1), list(order(1))]) {
      const parsed = parseOrderDocument(document);
      assert.ok(!parsed.ok);
      assert.match(parsed.problems.join('\n'), /^connection: missing; .* \(--connection <id>\)$/);
    }
    const filled = parseOrderDocument({ order: order(1) }, { connection: 'Main' });
    assert.ok(filled.ok && filled.inputs[0]?.connection === 'Main');
    const contradicted = parseOrderDocument({ connection: 'Other', order: order(1) }, { connection: 'Main' });
    assert.ok(!contradicted.ok);
    assert.deepEqual(contradicted.problems, ['connection: the file names "Other" but "Main" was given']);
  });

  test('text: a byte order mark is accepted, broken JSON and non-objects are problems', () => {
    const withBom = parseOrderText(`\uFEFF${JSON.stringify(list(order(1)))}`, { connection: 'Main' });
    assert.ok(withBom.ok);
    const broken = parseOrderText('{"ProvisioningOrdersList": [', { connection: 'Main' });
    assert.ok(!broken.ok);
    assert.match(broken.problems[0] ?? '', /^\(file\): is not valid JSON: /);
    const array = parseOrderText('[1, 2]', { connection: 'Main' });
    assert.ok(!array.ok);
    assert.match(array.problems[0] ?? '', /^\(file\): must be a JSON object/);
    const notAList = parseOrderText('{"ProvisioningOrdersList": {}}', { connection: 'Main' });
    assert.ok(!notAList.ok);
    assert.deepEqual(notAList.problems, ['ProvisioningOrdersList: must be an array of provisioning orders']);
  });
});

describe('the fulfill folder', () => {
  test('a valid file: every order started, then the file moves to processed/', async () => {
    const dir = folder();
    writeOrderFile(dir, 'grants.json', list(order('a1'), order('a2')));
    writeOrderFile(dir, 'single.json', order('b1'));
    const starter = new FakeStarter();
    const report = await processOrdersFolder({ dir, connection: 'Main', start: starter.start });
    assert.deepEqual(kinds(report), ['processed grants.json', 'processed single.json']);
    assert.deepEqual(starter.calls, ['Main:a1:Added', 'Main:a2:Added', 'Main:b1:Added']);
    assert.deepEqual(readdirSync(dir).sort(), ['processed']);
    assert.deepEqual(readdirSync(path.join(dir, 'processed')).sort(), ['grants.json', 'single.json']);
    const [first] = report.files;
    assert.ok(first?.kind === 'processed');
    assert.equal(first.movedTo, path.join(dir, 'processed', 'grants.json'));
    assert.deepEqual(
      first.started.map(({ result }) => result),
      [
        { workflowId: 'Main:a1:Added', started: true },
        { workflowId: 'Main:a2:Added', started: true },
      ],
    );
    assert.equal(report.stoppedBy, undefined);
  });

  test('an invalid file moves to failed/ with an explanation, and none of its orders is started', async () => {
    const dir = folder();
    writeOrderFile(
      dir,
      'bad.json',
      list(order('c1'), order('c2', { ChangeType: 'Renamed' }), order('c3', { Owner: 5 })),
    );
    writeOrderFile(dir, 'broken.json', '{"ProvisioningOrdersList": [');
    writeOrderFile(dir, 'good.json', list(order('c4')));
    const starter = new FakeStarter();
    const report = await processOrdersFolder({ dir, connection: 'Main', start: starter.start });
    assert.deepEqual(kinds(report), ['invalid bad.json', 'invalid broken.json', 'processed good.json']);
    assert.deepEqual(starter.calls, ['Main:c4:Added'], 'an invalid file starts nothing, later files go on');
    assert.deepEqual(readdirSync(path.join(dir, 'failed')).sort(), [
      'bad.json',
      'bad.json.error.txt',
      'broken.json',
      'broken.json.error.txt',
    ]);
    const explanation = readFileSync(path.join(dir, 'failed', 'bad.json.error.txt'), 'utf8');
    assert.match(explanation, /^bad\.json was not processed: 2 problems; no order in it was started\./);
    assert.match(
      explanation,
      /^ {2}- orders\[1\]\.order\.ChangeType: must be "Added", "Modified" or "Deleted"$/m,
    );
    assert.match(explanation, /^ {2}- orders\[2\]\.order\.Owner: must be an object describing the identity/m);
    assert.match(
      readFileSync(path.join(dir, 'failed', 'broken.json.error.txt'), 'utf8'),
      /is not valid JSON/,
    );
    assert.equal(readFileSync(path.join(dir, 'failed', 'bad.json'), 'utf8').includes('"Renamed"'), true);
  });

  test('a start failing on the 2nd of 3 orders leaves the file; the rerun starts all 3 again, then moves it', async () => {
    const dir = folder();
    writeOrderFile(dir, 'three.json', list(order('d1'), order('d2'), order('d3')));
    writeOrderFile(dir, 'later.json', list(order('d4', { ChangeType: 'Deleted' })));
    const starter = new FakeStarter();
    starter.failNext.add('d2');

    const first = await processOrdersFolder({ dir, connection: 'Main', start: starter.start });
    assert.deepEqual(kinds(first), ['retry three.json']);
    const [retry] = first.files;
    assert.ok(retry?.kind === 'retry');
    assert.equal(retry.failedOrder, 1);
    assert.equal(retry.total, 3);
    assert.match(retry.reason, /UNAVAILABLE/);
    assert.equal(first.stoppedBy, 'start-failure');
    assert.deepEqual(first.notReached, ['later.json'], 'a later file does not overtake the failed one');
    assert.deepEqual(starter.calls, ['Main:d1:Added', 'Main:d2:Added']);
    assert.ok(existsSync(path.join(dir, 'three.json')) && existsSync(path.join(dir, 'later.json')));
    assert.equal(existsSync(path.join(dir, 'processed')), false);

    const second = await processOrdersFolder({ dir, connection: 'Main', start: starter.start });
    assert.deepEqual(kinds(second), ['processed three.json', 'processed later.json']);
    assert.deepEqual(starter.calls.slice(2), [
      'Main:d1:Added',
      'Main:d2:Added',
      'Main:d3:Added',
      'Main:d4:Deleted',
    ]);
    const [done] = second.files;
    assert.ok(done?.kind === 'processed');
    assert.deepEqual(
      done.started.map(({ result }) => result.started),
      [false, true, true],
      'the order started before the failure is attached to, not started twice',
    );
    assert.deepEqual(readdirSync(dir).sort(), ['processed']);
  });

  test('a name already taken in processed/ or failed/ gets a suffix', async () => {
    const dir = folder();
    mkdirSync(path.join(dir, 'processed'));
    writeFileSync(path.join(dir, 'processed', 'orders.json'), 'earlier');
    writeFileSync(path.join(dir, 'processed', 'orders-1.json'), 'earlier too');
    writeOrderFile(dir, 'orders.json', list(order('e1')));
    const starter = new FakeStarter();
    const report = await processOrdersFolder({ dir, connection: 'Main', start: starter.start });
    const [outcome] = report.files;
    assert.ok(outcome?.kind === 'processed');
    assert.equal(outcome.movedTo, path.join(dir, 'processed', 'orders-2.json'));
    assert.equal(readFileSync(path.join(dir, 'processed', 'orders.json'), 'utf8'), 'earlier');

    writeOrderFile(dir, 'bad.json', '{}');
    await processOrdersFolder({ dir, connection: 'Main', start: starter.start });
    writeOrderFile(dir, 'bad.json', '[]');
    const again = await processOrdersFolder({ dir, connection: 'Main', start: starter.start });
    const [failed] = again.files;
    assert.ok(failed?.kind === 'invalid');
    assert.equal(failed.movedTo, path.join(dir, 'failed', 'bad-1.json'));
    assert.equal(failed.errorFile, path.join(dir, 'failed', 'bad-1.json.error.txt'));
    assert.deepEqual(readdirSync(path.join(dir, 'failed')).sort(), [
      'bad-1.json',
      'bad-1.json.error.txt',
      'bad.json',
      'bad.json.error.txt',
    ]);
  });

  test('files are taken oldest first; files being written, other names and folders are left alone', async () => {
    const dir = folder();
    const now = Date.now();
    writeOrderFile(dir, 'b-newer.json', order('f2'), now - 5_000);
    writeOrderFile(dir, 'a-older.json', order('f1'), now - 10_000);
    writeOrderFile(dir, 'fresh.json', order('f3'), now);
    writeOrderFile(dir, 'upload.json.tmp', order('f4'), now - 10_000);
    writeOrderFile(dir, '.hidden.json', order('f5'), now - 10_000);
    writeOrderFile(dir, 'notes.txt', 'not an order', now - 10_000);
    mkdirSync(path.join(dir, 'archive.json'));
    const starter = new FakeStarter();
    const report = await processOrdersFolder({
      dir,
      connection: 'Main',
      start: starter.start,
      now: () => now,
    });
    assert.deepEqual(kinds(report), ['processed a-older.json', 'processed b-newer.json']);
    assert.deepEqual(report.settling, ['fresh.json']);
    assert.deepEqual(starter.calls, ['Main:f1:Added', 'Main:f2:Added']);
    assert.deepEqual(readdirSync(dir).sort(), [
      '.hidden.json',
      'archive.json',
      'fresh.json',
      'notes.txt',
      'processed',
      'upload.json.tmp',
    ]);

    const later = await processOrdersFolder({
      dir,
      connection: 'Main',
      start: starter.start,
      now: () => now + 1_000,
    });
    assert.deepEqual(kinds(later), ['processed fresh.json'], 'a settled file is taken on a later pass');
  });

  test('an aborted pass stops before the next start and leaves the file for the next run', async () => {
    const dir = folder();
    writeOrderFile(dir, 'orders.json', list(order('g1'), order('g2')));
    const controller = new AbortController();
    const starter = new FakeStarter();
    const report = await processOrdersFolder({
      dir,
      connection: 'Main',
      signal: controller.signal,
      start: async (input) => {
        const result = await starter.start(input);
        controller.abort();
        return result;
      },
    });
    assert.deepEqual(kinds(report), ['retry orders.json']);
    assert.equal(report.stoppedBy, 'signal');
    assert.deepEqual(starter.calls, ['Main:g1:Added']);
    assert.ok(existsSync(path.join(dir, 'orders.json')));
  });

  test('the watch loop passes until its signal is aborted', async () => {
    const dir = folder();
    writeOrderFile(dir, 'first.json', order('h1'));
    const controller = new AbortController();
    const starter = new FakeStarter();
    const reports: PassReport<unknown>[] = [];
    const errors: unknown[] = [];
    await watchOrdersFolder({
      dir,
      connection: 'Main',
      start: starter.start,
      intervalMs: 10,
      signal: controller.signal,
      onError: (error) => errors.push(error),
      onPass: (report) => {
        reports.push(report);
        if (reports.length === 1) writeOrderFile(dir, 'second.json', order('h2'));
        if (reports.length === 3) controller.abort();
      },
    });
    assert.deepEqual(
      reports.map((report) => kinds(report)),
      [['processed first.json'], ['processed second.json'], []],
    );
    assert.deepEqual(errors, []);
  });
});
