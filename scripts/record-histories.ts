/**
 * Records the committed workflow histories in test/histories/ (`npm run histories:record`): each scenario runs
 * the provisioning workflow on the time-skipping server, against the ServiceNow simulator, with a real worker
 * (the connector's activities, a SQLite ledger), and every run of its workflow id is saved as JSON.
 *
 * Never regenerate the histories to make a replay test pass after a workflow change: the committed histories
 * stand for workflows already running in production. Guard the change with `patched()` instead, and record new
 * histories only for new behaviour (README in test/histories/).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { fetchRunHistories, historyJSON } from '../src/audit/histories';
import { startOrder } from '../src/client/provisioning';
import { startSimulator, type SimulatorHandle } from '../src/servicenow/simulator/server';
import type { CloseOutcome, TicketAction } from '../src/servicenow/simulator/ticketActions';
import type { provisioningWorkflow } from '../src/workflows';
import { cancelUpdate, statusQuery, ticketChangedSignal } from '../src/contract/messages';
import type { TicketRef } from '../src/contract/provisioning';
import {
  provisioningWorker,
  RESOURCE_TYPES,
  simulatorSettings,
  testOrder,
  type ProvisioningHarness,
} from '../test/helpers/provisioning';
import { createTimeSkippingEnv } from '../test/helpers/temporal';
import { waitFor } from '../test/helpers/waitFor';

const ROOT = path.resolve(__dirname, '..');
const OUT_DIR = path.join(ROOT, 'test', 'histories');
const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
/** Larger files are refused: the histories are committed, and a replay test reads every one of them. */
const MAX_FILE_BYTES = 300 * 1024;

type Handle = WorkflowHandle<typeof provisioningWorkflow>;

/** What a scenario is given once its order has started and has its ticket. */
interface ScenarioContext {
  readonly sim: SimulatorHandle;
  readonly handle: Handle;
  readonly ticket: TicketRef;
  /** Skips server time, and keeps the simulator's clock with it so that ticket dates match the history. */
  readonly sleep: (ms: number) => Promise<void>;
  readonly act: (
    number: string,
    action: TicketAction,
    options?: { outcome?: CloseOutcome; notes?: string },
  ) => void;
}

interface Scenario {
  readonly name: string;
  readonly description: string;
  /** The order's assignment id: fixed, so that a scenario's workflow id is the same in every recording. */
  readonly assignmentId: string;
  /** Merged into the test order (an Added incident). */
  readonly order?: Record<string, unknown>;
  /** Merged into the test settings' TicketConnector section. */
  readonly settings?: Record<string, unknown>;
  /** Drives the order to its end and waits for it. */
  run(context: ScenarioContext): Promise<void>;
}

const scenarios: readonly Scenario[] = [
  {
    name: 'closed',
    description:
      'Added incident, checked for three days, closed by a fulfiller, noticed through a ticketChanged signal: Executed.',
    assignmentId: 'audit-closed',
    settings: { Polling: { FirstCheckAfter: '1m', MaxInterval: '12h', BackoffCoefficient: 2, Jitter: 0.1 } },
    async run({ handle, ticket, sleep, act }) {
      await sleep(3 * DAY);
      act(ticket.number, 'close', { notes: 'Access granted in the app' });
      await handle.signal(ticketChangedSignal, { source: 'servicenow-push' });
      await handle.result();
    },
  },
  {
    name: 'canceled-in-servicenow',
    description:
      'Catalog request; ServiceNow fails every call for two hours (failed checks), then a fulfiller cancels the ticket: Errored.',
    assignmentId: 'audit-canceled',
    order: { ResourceType: { Id: 8, Identifier: RESOURCE_TYPES.catalog } },
    settings: { Polling: { FirstCheckAfter: '1m', MaxInterval: '6h', BackoffCoefficient: 2, Jitter: 0.1 } },
    async run({ sim, handle, ticket, sleep, act }) {
      sim.instance.faults.update({ errorRate: 1 });
      try {
        await sleep(2 * HOUR);
      } finally {
        sim.instance.faults.update({ errorRate: 0 });
      }
      await sleep(DAY);
      act(ticket.number, 'cancel', { notes: 'Not approved by the application owner' });
      await handle.result();
    },
  },
  {
    name: 'revoked',
    description:
      'Revoked before fulfilment with the cancel update (reason and requestedBy): ticket canceled, Errored.',
    assignmentId: 'audit-revoked',
    async run({ handle, sleep }) {
      await sleep(5 * HOUR);
      await handle.executeUpdate(cancelUpdate, {
        args: [{ reason: 'access request withdrawn by the manager', requestedBy: 'jsmith' }],
      });
      await handle.result();
    },
  },
  {
    name: 'continued-as-new',
    description:
      'Checks every 10 minutes for 16 hours: the workflow continues as new when a run passes 500 events, then the ticket is closed: Executed.',
    assignmentId: 'audit-can',
    settings: { Polling: { FirstCheckAfter: '1m', MaxInterval: '10m', BackoffCoefficient: 2, Jitter: 0.1 } },
    async run({ handle, ticket, sleep, act }) {
      await sleep(16 * HOUR);
      act(ticket.number, 'close', { notes: 'Done after a long wait' });
      await handle.result();
    },
  },
  {
    name: 'workflow-canceled',
    description:
      'The workflow is canceled in Temporal (Web UI or handle.cancel()): the ticket is canceled, the assignment Errored.',
    assignmentId: 'audit-wf-canceled',
    async run({ handle, sleep }) {
      await sleep(2 * HOUR);
      await handle.cancel();
      await handle.result().catch(() => undefined);
    },
  },
  {
    name: 'reminders',
    description:
      'Reminders after one day and then every day while the ticket stays open for three and a half days; closed: Executed.',
    assignmentId: 'audit-reminders',
    settings: {
      Polling: { FirstCheckAfter: '1m', MaxInterval: '12h', BackoffCoefficient: 2, Jitter: 0.1 },
      Reminders: { FirstAfter: '1d', Every: '1d' },
    },
    async run({ handle, ticket, sleep, act }) {
      await sleep(3.5 * DAY);
      act(ticket.number, 'close', { notes: 'Granted' });
      await handle.result();
    },
  },
];

/**
 * One time-skipping server per scenario: its clock starts at the wall clock's time, whereas a shared server
 * would leap years ahead between scenarios while it skips to the timeouts of the finished ones.
 */
async function recordScenario(
  sim: SimulatorHandle,
  dataDir: string,
  clock: { offsetMs: number },
  scenario: Scenario,
): Promise<string[]> {
  const env = await createTimeSkippingEnv();
  clock.offsetMs = 0;
  let harness: ProvisioningHarness | undefined;
  try {
    harness = await provisioningWorker(
      env,
      simulatorSettings(sim, dataDir, scenario.settings),
      `record-${scenario.name}`,
    );
    const { taskQueue } = harness;
    const handle = await harness.worker.runUntil(async () => {
      // As Identity Manager starts it: snow-ticket's client.
      const input = testOrder(RESOURCE_TYPES.incident, {
        AssignedResourceTypeId: scenario.assignmentId,
        ...scenario.order,
      });
      const started = await startOrder(env.client, input, { taskQueue });
      const handle = env.client.workflow.getHandle<typeof provisioningWorkflow>(started.workflowId);
      // Waited for in real time, so that the server's clock stays put until the scenario moves it.
      const ticket = await waitFor(
        `the ticket of ${handle.workflowId}`,
        async () => (await handle.query(statusQuery)).ticket,
      );
      await scenario.run({
        sim,
        handle,
        ticket,
        sleep: async (ms) => {
          await env.sleep(ms);
          clock.offsetMs = (await env.currentTimeMs()) - Date.now();
        },
        act: (number, action, options = {}) => {
          sim.instance.actOnTicket(number, { action, ...options });
        },
      });
      return handle;
    });
    const runs = await fetchRunHistories(env.client, handle.workflowId);
    return runs.map((run, index) => {
      const name = runs.length === 1 ? scenario.name : `${scenario.name}-run${index + 1}`;
      const file = path.join(OUT_DIR, `${name}.json`);
      const json = historyJSON(run.history);
      if (Buffer.byteLength(json) > MAX_FILE_BYTES) {
        throw new Error(
          `${name}: ${Buffer.byteLength(json)} bytes, over ${MAX_FILE_BYTES}; shorten the scenario`,
        );
      }
      writeFileSync(file, json);
      return `${path.basename(file)} (${run.history.events?.length ?? 0} events)`;
    });
  } finally {
    await env.teardown();
    await harness?.ledger.close();
  }
}

/** Which code recorded the histories: the commit, whether the workflow code differed from it, and its digest. */
function codeVersion(): { commit: string; workflowDigest: string; workflowChanged: boolean; sdk: string } {
  const git = (...args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
    } catch {
      return '';
    }
  };
  const workflowDir = path.join(ROOT, 'src', 'workflows');
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (name.endsWith('.ts')) files.push(full);
    }
  };
  walk(workflowDir);
  const digest = createHash('sha256');
  for (const file of files) digest.update(path.relative(ROOT, file)).update('\0').update(readFileSync(file));
  const sdk = (
    JSON.parse(readFileSync(require.resolve('@temporalio/worker/package.json'), 'utf8')) as {
      version: string;
    }
  ).version;
  return {
    commit: git('rev-parse', '--short', 'HEAD') || 'unknown',
    workflowChanged: git('status', '--porcelain', '--', 'src/workflows') !== '',
    workflowDigest: digest.digest('hex').slice(0, 16),
    sdk,
  };
}

function readme(recorded: { scenario: Scenario; files: string[] }[]): string {
  const version = codeVersion();
  const lines = [
    '# Recorded workflow histories',
    '',
    'Histories of the provisioning workflow, one JSON file per run, in the format of',
    '`temporal workflow show --output json` and of the Web UI download (`historyFromJSON` reads them).',
    '`test/audit/replay.test.ts` replays every one of them against the current workflow code, and',
    '`test/audit/timeline.test.ts` builds audit timelines from them.',
    '',
    '**Never regenerate these histories to make a replay test pass after a workflow change.** They stand for',
    'workflows already running in production: a replay failure means the change would break them. Keep the',
    "old behaviour for histories that reached that point with `patched('<change-id>')` (and `deprecatePatch`",
    'once no such workflow is left), then _add_ histories for the new behaviour. Regenerate them all only when',
    'no workflow recorded by older code can still be running (a new task queue, a new workflow type).',
    '',
    'Recorded by `npm run histories:record` (`scripts/record-histories.ts`): time-skipping test server,',
    'ServiceNow simulator, a real worker with the connector activities and a SQLite ledger.',
    '',
    `- Code: commit ${version.commit}${version.workflowChanged ? ' with uncommitted changes to src/workflows' : ''}, ` +
      `src/workflows digest ${version.workflowDigest} (sha-256 of src/workflows/**/*.ts, first 16 hex digits)`,
    `- Temporal TypeScript SDK ${version.sdk}`,
    `- Recorded on ${new Date().toISOString().slice(0, 10)}`,
    '',
    '| scenario | files | what happens |',
    '| -------- | ----- | ------------ |',
    ...recorded.map(
      ({ scenario, files }) => `| ${scenario.name} | ${files.join('<br>')} | ${scenario.description} |`,
    ),
    '',
    'A workflow that continued as new has one file per run (`<scenario>-runN.json`), in run order.',
    '',
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  if (process.argv.length > 2) {
    // One recording for all: the README names the code that recorded every file.
    throw new Error('record-histories takes no arguments: it records every scenario');
  }
  mkdirSync(OUT_DIR, { recursive: true });
  for (const name of readdirSync(OUT_DIR)) {
    if (name.endsWith('.json')) unlinkSync(path.join(OUT_DIR, name));
  }
  const dataDir = mkdtempSync(path.join(tmpdir(), 'record-histories-'));
  const clock = { offsetMs: 0 };
  const sim = await startSimulator({
    port: 0,
    randomSeed: 1,
    now: () => new Date(Date.now() + clock.offsetMs),
  });
  const recorded: { scenario: Scenario; files: string[] }[] = [];
  try {
    for (const scenario of scenarios) {
      const files = await recordScenario(sim, dataDir, clock, scenario);
      console.log(`${scenario.name}: ${files.join(', ')}`);
      recorded.push({ scenario, files: files.map((file) => file.replace(/ \(.*$/, '')) });
    }
    writeFileSync(path.join(OUT_DIR, 'README.md'), readme(recorded));
    console.log(`Histories written to ${path.relative(ROOT, OUT_DIR)}/`);
  } finally {
    await sim.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
