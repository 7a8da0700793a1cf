import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { WorkflowNotFoundError } from '@temporalio/client';
import { orderWorkflowId, startOrder } from '../../src/client/provisioning';
import { parseProvisioningInput, type ProvisioningInput } from '../../src/contract/order';
import type { TicketSummary } from '../../src/simulator/instance';
import { type CliResult, jsonOf, ok, runCli as run, spawnCli } from '../helpers/cli';
import { writeJson } from '../helpers/files';
import { CONNECTION, simulatorConnection, testOrder, useProvisioningWorker } from '../helpers/provisioning';
import { createDevServerEnv } from '../helpers/temporal';
import { waitFor } from '../helpers/waitFor';

/**
 * The provisioning commands end to end, as an operator and Identity Manager run them: a real Temporal dev server
 * (which does not skip time), a real worker on the SQLite ledger, the ServiceNow simulator, and `snow-ticket`
 * run as child processes with a settings file pointing at all three. Children are spawned asynchronously: the
 * simulator and the worker they talk to run in this process.
 */

/** A line of aligned `Label  value` output. */
function field(output: string, label: string): string | undefined {
  const line = output.split('\n').find((candidate) => candidate.startsWith(`${label}  `));
  return line?.slice(label.length).trim();
}

describe('snow-ticket provisioning commands, end to end (dev server, worker, simulator, CLI processes)', () => {
  const taskQueue = 'cli-e2e';
  const fixture = useProvisioningWorker({
    createEnv: createDevServerEnv,
    taskQueue,
    // The dev server's clock is real: checks every second or two, not the default minute.
    settings: { Polling: { FirstCheckAfter: '1s', MaxInterval: '2s', BackoffCoefficient: 2, Jitter: 0.1 } },
  });
  const { dataDir } = fixture;
  let settingsFile: string;

  before(() => {
    // The CLI's own settings, as an operator's machine would have them: same server, queue and ledger.
    settingsFile = fixture.writeCliSettings({
      Connections: simulatorConnection(fixture.sim),
      TicketConnector: { Assignments: { Store: 'Ledger', LedgerFile: fixture.harness.ledger.file } },
    });
  });

  const cli = (...args: string[]) => run(['--config', settingsFile, ...args]);
  const sim = (...args: string[]) =>
    run(['sim', ...args], {
      env: { SNOW_SIM_URL: fixture.sim.url, SNOW_SIM_PASSWORD: fixture.sim.credentials.password },
    });

  function ticketsOf(workflowId: string): TicketSummary[] {
    return fixture.sim.instance
      .tickets(['incident', 'sc_request'], 'all')
      .filter((ticket) => ticket.correlation_id === workflowId);
  }

  function ticketOf(workflowId: string): Promise<TicketSummary> {
    return waitFor(`the ticket of ${workflowId}`, () => ticketsOf(workflowId)[0], { intervalMs: 100 });
  }

  async function waitForEnd(workflowId: string, expected = 'COMPLETED'): Promise<void> {
    await waitFor(
      `${workflowId} to end`,
      async () => {
        const description = await fixture.env.client.workflow.getHandle(workflowId).describe();
        return description.status.name === 'RUNNING' ? undefined : description.status.name;
      },
      { intervalMs: 200 },
    ).then((status) => assert.equal(status, expected));
  }

  async function assertNotStarted(input: ProvisioningInput): Promise<void> {
    await assert.rejects(
      fixture.env.client.workflow.getHandle(orderWorkflowId(input)).describe(),
      (error) => error instanceof WorkflowNotFoundError,
    );
  }

  test('--help describes every provisioning command, with examples', async () => {
    const commands = ['provision', 'fulfill', 'status', 'list', 'cancel', 'assignments', 'audit', 'replay'];
    const results = await Promise.all(commands.map((command) => run([command, '--help'])));
    for (const [i, command] of commands.entries()) {
      const result = ok(results[i] as CliResult);
      assert.match(result.stdout, new RegExp(`^Usage: snow-ticket ${command} `));
      assert.match(result.stdout, /\nExamples:\n {2}\$ snow-ticket /);
    }
  });

  test('provision validates every order first and starts none of a partly wrong list', async () => {
    const good = testOrder();
    const file = writeJson(dataDir, 'partly-wrong.json', {
      ProvisioningOrdersList: [
        good.order,
        { ...testOrder().order, ChangeType: 'Renamed' },
        { ChangeType: 'Added' },
      ],
    });
    const result = await cli('provision', file, '--connection', CONNECTION);
    assert.equal(result.status, 2, result.stderr);
    assert.match(
      result.stderr,
      /^Invalid orders in .*partly-wrong\.json \(4 problems\); nothing was started:/,
    );
    assert.match(
      result.stderr,
      /^ {2}- orders\[1\]\.order\.ChangeType: must be "Added", "Modified" or "Deleted"$/m,
    );
    assert.match(result.stderr, /^ {2}- orders\[2\]\.order\.AssignedResourceTypeId: /m);
    assert.match(result.stderr, /^ {2}- orders\[2\]\.order\.Owner: /m);
    assert.match(result.stderr, /^ {2}- orders\[2\]\.order\.ResourceType: /m);
    await assertNotStarted(parseProvisioningInput(good));

    const bare = await cli('provision', writeJson(dataDir, 'bare.json', good.order));
    assert.equal(bare.status, 2);
    assert.match(
      bare.stderr,
      /connection: missing; an Identity Manager order does not say which ServiceNow connection/,
    );
    const missing = await cli('provision', path.join(dataDir, 'no-such-file.json'));
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /^Cannot read the order file .*no-such-file\.json: ENOENT/);
  });

  describe('an order from provision to Executed', () => {
    const input = testOrder();
    const assignmentId = input.order.AssignedResourceTypeId;
    let workflowId: string;
    let ticket: TicketSummary;

    test('provision starts it; the same order again attaches (here from standard input)', async () => {
      const file = writeJson(dataDir, 'order.json', input);
      const [first] = jsonOf<{ workflowId: string; started: boolean; assignmentId: string }[]>(
        await cli('provision', file, '--json'),
      );
      assert.equal(first?.started, true);
      assert.equal(first?.assignmentId, assignmentId);
      workflowId = first.workflowId;
      assert.equal(workflowId, orderWorkflowId(input));

      const again = ok(
        await run(['--config', settingsFile, 'provision', '-'], { input: JSON.stringify(input) }),
      );
      assert.match(
        again.stdout,
        new RegExp(
          `^attached {2}${escape(workflowId)} {2}\\(Added App_Incident for jdoe, assignment ${assignmentId}\\)$`,
          'm',
        ),
      );

      ticket = await ticketOf(workflowId);
      assert.equal(ticketsOf(workflowId).length, 1, 'one ticket for the order');
      assert.equal(ticket.table, 'incident');
    });

    test('status shows the order waiting on its open ticket', async () => {
      const output = ok(await cli('status', workflowId)).stdout;
      assert.equal(field(output, 'Order'), workflowId);
      assert.match(field(output, 'Workflow') ?? '', /^Running \(started /);
      assert.equal(field(output, 'Phase'), 'waiting');
      assert.equal(field(output, 'Provisioning state'), 'Transmitted');
      assert.match(field(output, 'Ticket') ?? '', new RegExp(`^${ticket.number} \\(incident\\)`));
      assert.equal(
        field(output, 'Order for'),
        `Added App_Incident, assignment ${assignmentId} on connection ${CONNECTION}`,
      );
      assert.match(field(output, 'Next check') ?? '', /^\d{4}-\d\d-\d\dT/);
      assert.equal(field(output, 'Outcome'), undefined);
    });

    test('a fulfiller closes the ticket (sim close): status shows Executed with the close details', async () => {
      ok(await sim('close', ticket.number, '--notes', 'Access granted in the app'));
      await waitForEnd(workflowId);

      const output = ok(await cli('status', workflowId)).stdout;
      assert.match(field(output, 'Workflow') ?? '', /^Completed \(started .*, closed /);
      assert.equal(field(output, 'Phase'), 'done');
      assert.equal(field(output, 'Provisioning state'), 'Executed');
      assert.equal(field(output, 'Outcome'), `Executed: ticket ${ticket.number} closed`);
      assert.equal(field(output, 'Close code'), 'Solved (Permanently)');
      assert.equal(field(output, 'Close notes'), 'Access granted in the app');
      assert.match(field(output, 'Closed by') ?? '', /\S/);
      assert.match(field(output, 'Checks made') ?? '', /^[1-9]/);

      const json = jsonOf<{
        execution: string;
        status?: { phase: string };
        result?: { provisioningState: string };
      }>(await cli('status', workflowId, '--json'));
      assert.equal(json.execution, 'COMPLETED');
      assert.equal(json.status?.phase, 'done');
      assert.equal(json.result?.provisioningState, 'Executed');
    });

    test('assignments lists the assignment as Executed with its ticket, and the order history', async () => {
      const output = ok(await cli('assignments', '--assignment', assignmentId)).stdout;
      const [header, row, extra] = output.trimEnd().split('\n');
      assert.match(
        header ?? '',
        /^ASSIGNMENT\s+STATE\s+CHANGE\s+RESOURCE TYPE\s+CONNECTION\s+TICKET\s+UPDATED\s+ORDER$/,
      );
      assert.match(
        row ?? '',
        new RegExp(
          `^${assignmentId}\\s+Executed\\s+Added\\s+App_Incident\\s+${CONNECTION}\\s+${ticket.number} \\(Closed\\)\\s+\\S+\\s+${escape(workflowId)}$`,
        ),
      );
      assert.equal(extra, undefined);

      const executed = jsonOf<{ orderId: string; state: string }[]>(
        await cli('assignments', '--state', 'Executed', '--json'),
      );
      assert.ok(executed.some((view) => view.orderId === workflowId && view.state === 'Executed'));
      const transmitted = jsonOf<{ orderId: string }[]>(
        await cli('assignments', '--state', 'Transmitted', '--json'),
      );
      assert.ok(!transmitted.some((view) => view.orderId === workflowId));

      const history = ok(await cli('assignments', '--history', workflowId)).stdout;
      assert.match(history, /^\S+\s+Transmitted\s+incident INC\d+/m);
      assert.match(
        history,
        /^\S+\s+Executed\s+incident INC\d+ \(Closed\)\s+code: Solved \(Permanently\); notes: Access granted in the app/m,
      );
    });

    test('audit prints the timeline from the Temporal history, and replay accepts it', async () => {
      const output = ok(await cli('audit', workflowId)).stdout;
      const lines = output.split('\n');
      const index = (pattern: RegExp) => lines.findIndex((line) => pattern.test(line));
      const received = index(/order received: Added App_Incident, assignment /);
      const created = index(new RegExp(`ticket created: ${ticket.number} \\(incident\\)`));
      const transmitted = index(/assignment Transmitted/);
      const executed = index(/assignment Executed: .*Access granted in the app/);
      const completed = index(/completed: Executed \(ticket closed\)/);
      assert.ok(received >= 0 && created > received, output);
      assert.ok(transmitted > created && executed > transmitted && completed > executed, output);
      assert.match(output, /check: ticket Closed/);

      const timeline = jsonOf<{ entries: { kind: string }[] }>(await cli('audit', workflowId, '--json'));
      assert.ok(timeline.entries.some((entry) => entry.kind === 'assignment'));
      assert.match(ok(await cli('replay', '--workflow-id', workflowId)).stdout, /OK/);
    });

    test('list finds it by state, ticket and assignment through visibility; quotes in values are escaped', async () => {
      const found = await waitFor(
        'visibility to show the order as Executed',
        async () => {
          const result = ok(await cli('list', '--state', 'Executed'));
          return result.stdout.includes(workflowId) ? result.stdout : undefined;
        },
        { intervalMs: 500 },
      );
      assert.match(
        found,
        /^WORKFLOW ID\s+EXECUTION\s+STATE\s+TICKET\s+TICKET STATE\s+ASSIGNMENT\s+RESOURCE TYPE\s+STARTED$/m,
      );
      assert.match(
        found,
        new RegExp(
          `^${escape(workflowId)}\\s+Completed\\s+Executed\\s+${ticket.number}\\s+Closed\\s+${assignmentId}\\s+App_Incident\\s+`,
          'm',
        ),
      );
      assert.ok(!ok(await cli('list', '--state', 'Transmitted')).stdout.includes(workflowId));

      const byTicket = jsonOf<{ workflowId: string; ticketNumber: string; provisioningState: string }[]>(
        await cli('list', '--ticket', ticket.number, '--json'),
      );
      assert.deepEqual(
        byTicket.map((row) => [row.workflowId, row.ticketNumber, row.provisioningState]),
        [[workflowId, ticket.number, 'Executed']],
      );
      const byAssignment = jsonOf<{ workflowId: string }[]>(
        await cli('list', '--assignment', assignmentId, '--json'),
      );
      assert.deepEqual(
        byAssignment.map((row) => row.workflowId),
        [workflowId],
      );

      const quoted = ok(await cli('list', '--assignment', `x' OR WorkflowType = 'provisioningWorkflow`));
      assert.equal(quoted.stdout.trim(), 'No provisioning orders match.');
      const backslash = ok(await cli('list', '--ticket', 'INC\\', '--json'));
      assert.deepEqual(JSON.parse(backslash.stdout), []);
    });

    test('cancel of a finished order says so', async () => {
      const result = await cli('cancel', workflowId, '--reason', 'too late');
      assert.equal(result.status, 1);
      assert.equal(
        result.stderr.trim(),
        `The order ${workflowId} has already finished (Executed: ticket ${ticket.number} closed): there is nothing to cancel.`,
      );
    });
  });

  describe('fulfill over an orders folder', () => {
    const first = testOrder();
    const second = testOrder();
    const invalid = testOrder();
    let ordersDir: string;

    /** An order file as Identity Manager writes it, last modified a while ago (fulfill leaves fresh files alone). */
    function writeOrdersFile(name: string, orders: unknown[]): void {
      const file = path.join(ordersDir, name);
      writeFileSync(file, `\uFEFF${JSON.stringify({ ProvisioningOrdersList: orders }, null, 2)}`);
      const past = new Date(Date.now() - 60_000);
      utimesSync(file, past, past);
    }

    before(() => {
      ordersDir = path.join(dataDir, 'orders');
      mkdirSync(ordersDir);
    });

    /** snow-ticket's arguments for fulfill over the orders folder, with the CLI's settings. */
    const fulfill = (...options: string[]) => [
      '--config',
      settingsFile,
      'fulfill',
      '--orders-dir',
      ordersDir,
      '--connection',
      CONNECTION,
      ...options,
    ];

    test('with Temporal unreachable, the file stays in place and the pass exits 1', async () => {
      writeOrdersFile('batch.json', [first.order, second.order]);
      const result = await run(fulfill('--once', '--timeout', '3s'), {
        env: { TEMPORAL_ADDRESS: '127.0.0.1:1' },
      });
      assert.equal(result.status, 1, result.stdout);
      assert.match(
        result.stderr,
        /^retry {6}batch\.json: order 1 of 2 was not started \(.+\); the file stays/m,
      );
      assert.match(result.stderr, /1 file left in .* for the next pass\./);
      assert.ok(existsSync(path.join(ordersDir, 'batch.json')));
      await assertNotStarted(first);
    });

    test('--once starts every order of a ProvisioningOrdersList and moves the file to processed/', async () => {
      writeOrdersFile('wrong.json', [invalid.order, { ...second.order, ChangeType: 'Renamed' }]);
      const result = ok(await run(fulfill('--once')));
      assert.match(
        result.stdout,
        /^processed {2}batch\.json: 2 orders \(2 started, 0 attached\) -> processed\/batch\.json$/m,
      );
      assert.match(
        result.stderr,
        /^invalid {4}wrong\.json: 1 problem, nothing started -> failed\/wrong\.json \(see failed\/wrong\.json\.error\.txt\)$/m,
      );
      assert.deepEqual(readdirSync(ordersDir).sort(), ['failed', 'processed']);
      assert.deepEqual(readdirSync(path.join(ordersDir, 'processed')), ['batch.json']);
      assert.match(
        readFileSync(path.join(ordersDir, 'failed', 'wrong.json.error.txt'), 'utf8'),
        /^ {2}- orders\[1\]\.order\.ChangeType: must be "Added", "Modified" or "Deleted"$/m,
      );
      await assertNotStarted(invalid);

      for (const input of [first, second]) {
        const id = orderWorkflowId(input);
        assert.match(result.stdout, new RegExp(`^ +started {3}${escape(id)} `, 'm'));
        await ticketOf(id);
      }
    });

    test('the same file again only attaches: no second workflow, no second ticket', async () => {
      writeOrdersFile('batch.json', [first.order, second.order]);
      const result = jsonOf<{ files: { kind: string; movedTo: string; orders: { started: boolean }[] }[] }>(
        await run(fulfill('--once', '--json')),
      );
      assert.deepEqual(
        result.files.map((file) => [
          file.kind,
          path.basename(file.movedTo),
          file.orders.map((o) => o.started),
        ]),
        [['processed', 'batch-1.json', [false, false]]],
      );
      for (const input of [first, second]) assert.equal(ticketsOf(orderWorkflowId(input)).length, 1);
    });

    test('--settle 0s takes a file written a moment ago at once', async () => {
      const fresh = testOrder();
      writeFileSync(
        path.join(ordersDir, 'fresh.json'),
        JSON.stringify({ ProvisioningOrdersList: [fresh.order] }),
      );
      const result = ok(await run(fulfill('--once', '--settle', '0s')));
      assert.match(result.stdout, /^processed {2}fresh\.json: 1 order \(1 started, 0 attached\)/m);
      await ticketOf(orderWorkflowId(fresh));
    });

    test('a run starting many orders leaves no abort listener per start behind (no MaxListenersExceededWarning)', async () => {
      // The SDK adds an abort listener per call to the signal it is given; one signal for the whole run would
      // collect one per start, and Node warns past ten.
      const many = Array.from({ length: 12 }, () => testOrder());
      writeOrdersFile(
        'many.json',
        many.map((input) => input.order),
      );
      const result = ok(await run(fulfill('--once')));
      assert.match(result.stdout, /^processed {2}many\.json: 12 orders \(12 started, 0 attached\)/m);
      assert.doesNotMatch(result.stderr, /MaxListenersExceededWarning/);
    });

    test('without --once it watches the folder until SIGINT, then exits cleanly', async () => {
      const third = testOrder();
      const child = spawnCli(fulfill('--interval', '200ms'));
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.on('exit', (code, signal) => resolve({ code, signal })),
      );
      try {
        await waitFor(
          'fulfill to watch the folder',
          () => (stdout.includes('Watching ') ? true : undefined),
          {
            intervalMs: 100,
          },
        );
        // The writer's side of the convention: write under another name, then rename to *.json.
        const temporary = path.join(ordersDir, 'live.json.tmp');
        writeFileSync(temporary, JSON.stringify({ ProvisioningOrdersList: [third.order] }));
        renameSync(temporary, path.join(ordersDir, 'live.json'));
        // The pass prints its report once it has moved the file: wait for the report, not the move.
        await waitFor('the watched file to be processed', () =>
          /^\S+ processed {2}live\.json: 1 order \(1 started, 0 attached\) -> processed\/live\.json$/m.test(
            stdout,
          )
            ? true
            : undefined,
        );
        assert.ok(existsSync(path.join(ordersDir, 'processed', 'live.json')));
        await ticketOf(orderWorkflowId(third));
        child.kill('SIGINT');
        const exit = await waitFor('fulfill to stop after SIGINT', () =>
          Promise.race([exited, delay(100).then(() => undefined)]),
        );
        assert.deepEqual(exit, { code: 0, signal: null }, stderr);
        assert.match(stderr, /^SIGINT: stopping/m);
      } finally {
        child.kill('SIGKILL');
      }
    });

    test('cancel revokes a pending order: its ticket is canceled with the reason, the assignment Errored', async () => {
      const id = orderWorkflowId(first);
      const ticket = await ticketOf(id);
      const result = ok(
        await cli('cancel', id, '--reason', 'request withdrawn by the manager', '--by', 'alice'),
      );
      assert.match(
        result.stdout.trim(),
        new RegExp(
          `^Canceled ${escape(id)}: Errored: revoked \\(ticket ${ticket.number}, Canceled\\); revoked by alice: request withdrawn by the manager$`,
        ),
      );
      const canceled = ticketsOf(id)[0];
      assert.equal(canceled?.state_label, 'Canceled');
      const journal = (fixture.sim.instance.ticket(ticket.number)?.journal ?? []).map((entry) => entry.value);
      assert.ok(
        journal.some((note) => note.includes('request withdrawn by the manager')),
        journal.join('\n'),
      );

      const status = ok(await cli('status', id)).stdout;
      assert.equal(field(status, 'Provisioning state'), 'Errored');
      assert.equal(field(status, 'Outcome'), `Errored: revoked (ticket ${ticket.number}, Canceled)`);
      assert.equal(field(status, 'Reason'), 'revoked by alice: request withdrawn by the manager');
      const [view] = jsonOf<{ state: string }[]>(
        await cli('assignments', '--assignment', first.order.AssignedResourceTypeId, '--json'),
      );
      assert.equal(view?.state, 'Errored');

      const empty = await cli('cancel', orderWorkflowId(second), '--reason', '   ');
      assert.equal(empty.status, 2);
      assert.match(empty.stderr, /option '--reason <text>' argument ' {3}' is invalid\. must not be empty/);
    });
  });

  describe('status without a worker answering', () => {
    const nobody = 'cli-e2e-no-worker';

    test('a running order: the execution record is shown, saying the query was not answered', async () => {
      const { workflowId } = await startOrder(fixture.env.client, testOrder(), { taskQueue: nobody });
      const output = ok(await cli('status', workflowId, '--timeout', '2s')).stdout;
      assert.match(field(output, 'Workflow') ?? '', /^Running /);
      assert.match(
        output,
        /^\(no worker answered the status query: .+; shown from the execution's record\)$/m,
      );

      await fixture.env.client.workflow.getHandle(workflowId).terminate('operator cleanup');
      const closed = ok(await cli('status', workflowId, '--timeout', '2s')).stdout;
      assert.match(field(closed, 'Workflow') ?? '', /^Terminated \(started .*, closed /);
      assert.match(field(closed, 'Outcome') ?? '', /^Terminated: operator cleanup$/);
    });

    test('an unknown workflow and an unreachable server are clear errors', async () => {
      const unknown = await cli('status', 'Sim:nothing:added:000000000000');
      assert.equal(unknown.status, 1);
      assert.equal(unknown.stderr.trim(), 'No workflow Sim:nothing:added:000000000000 in namespace default');
      const unreachable = await run(['--config', settingsFile, 'list'], {
        env: { TEMPORAL_ADDRESS: '127.0.0.1:1' },
      });
      assert.equal(unreachable.status, 1);
      assert.match(
        unreachable.stderr,
        /^Cannot connect to Temporal at 127\.0\.0\.1:1 \(namespace default\): /,
      );
    });
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
