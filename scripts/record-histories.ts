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
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import { openLedger } from '../src/assignments/sqliteLedger';
import { createConnectorWorker } from '../src/platform/connectorWorker';
import { fetchRunHistories, historyJSON } from '../src/audit/histories';
import { bundledProjectFiles, WORKFLOW_CODE_DIRS, workflowCodeDigest } from '../src/audit/workflowCode';
import { startOrder } from '../src/client/provisioning';
import { ADMIN_USER_SYS_ID, startSimulator, type SimulatorHandle } from '../src/simulator/server';
import type { CloseOutcome, TicketAction } from '../src/simulator/ticketActions';
import type { provisioningWorkflow } from '../src/workflows';
import { cancelUpdate, statusQuery, ticketChangedSignal } from '../src/contract/messages';
import type { TicketRef } from '../src/contract/provisioning';
import { RESOURCE_TYPES, simulatorSettings, testOrder } from '../test/helpers/provisioning';
import { createDevServerEnv, createTimeSkippingEnv, workflowBundle } from '../test/helpers/temporal';
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
  /** Replaces the worker by one running the current workflow code (scenarios with `startedBy`). */
  readonly upgrade: () => Promise<void>;
}

interface ScenarioBase {
  readonly name: string;
  /** The release whose workflow code recorded it: its files live in test/histories/release-<n>/. */
  readonly release: number;
  readonly description: string;
  /** The order's assignment id: fixed, so that a scenario's workflow id is the same in every recording. */
  readonly assignmentId: string;
  /** Merged into the test order (an Added incident). */
  readonly order?: Record<string, unknown>;
  /** Merged into the test settings' TicketConnector section. */
  readonly settings?: Record<string, unknown>;
  /**
   * The dev server instead of the time-skipping one, for scenarios the latter cannot run (it refuses to cancel
   * an activity that has not started yet).
   */
  readonly devServer?: true;
  /**
   * A commit whose workflow code starts the order, as workers of an older release would; the scenario calls
   * `upgrade()` to hand it to the current code, as a rollout does.
   */
  readonly startedBy?: string;
}

/** Most scenarios act once the order has its ticket; some end the order before it can have one. */
type Scenario = ScenarioBase &
  (
    | { readonly beforeTicket?: false; run(context: ScenarioContext): Promise<void> }
    | { readonly beforeTicket: true; run(context: Omit<ScenarioContext, 'ticket'>): Promise<void> }
  );

/** Scenario bodies recorded by more than one release: the same story, told by each release's code. */
type ScenarioStory = Pick<ScenarioBase, 'assignmentId' | 'settings'> & {
  run(context: ScenarioContext): Promise<void>;
};

const closedAfterThreeDays: ScenarioStory = {
  assignmentId: 'audit-closed',
  settings: { Polling: { FirstCheckAfter: '1m', MaxInterval: '12h', BackoffCoefficient: 2, Jitter: 0.1 } },
  async run({ handle, ticket, sleep, act }) {
    await sleep(3 * DAY);
    act(ticket.number, 'close', { notes: 'Access granted in the app' });
    await handle.signal(ticketChangedSignal, { source: 'servicenow-push' });
    await handle.result();
  },
};

const openForSixteenHours: ScenarioStory = {
  assignmentId: 'audit-can',
  settings: { Polling: { FirstCheckAfter: '1m', MaxInterval: '10m', BackoffCoefficient: 2, Jitter: 0.1 } },
  async run({ handle, ticket, sleep, act }) {
    await sleep(16 * HOUR);
    act(ticket.number, 'close', { notes: 'Done after a long wait' });
    await handle.result();
  },
};

const revokedAfterFiveHours: ScenarioStory = {
  assignmentId: 'audit-revoked',
  async run({ handle, sleep }) {
    await sleep(5 * HOUR);
    await handle.executeUpdate(cancelUpdate, {
      args: [{ reason: 'access request withdrawn by the manager', requestedBy: 'jsmith' }],
    });
    await handle.result();
  },
};

const canceledInTemporal: ScenarioStory = {
  assignmentId: 'audit-wf-canceled',
  async run({ handle, sleep }) {
    await sleep(2 * HOUR);
    await handle.cancel();
    await handle.result().catch(() => undefined);
  },
};

const scenarios: readonly Scenario[] = [
  {
    name: 'closed',
    release: 1,
    description:
      'Added incident, checked for three days, closed by a fulfiller, noticed through a ticketChanged signal: Executed.',
    ...closedAfterThreeDays,
  },
  {
    name: 'canceled-in-servicenow',
    release: 1,
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
    release: 1,
    description:
      'Revoked before fulfilment with the cancel update (reason and requestedBy): ticket canceled, Errored.',
    ...revokedAfterFiveHours,
  },
  {
    name: 'continued-as-new',
    release: 1,
    description:
      'Checks every 10 minutes for 16 hours: the workflow continues as new when a run passes 500 events, then the ticket is closed: Executed.',
    ...openForSixteenHours,
  },
  {
    name: 'workflow-canceled',
    release: 1,
    description:
      'The workflow is canceled in Temporal (Web UI or handle.cancel()): the ticket is canceled, the assignment Errored.',
    ...canceledInTemporal,
  },
  {
    name: 'reminders',
    release: 1,
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
  {
    name: 'closed',
    release: 2,
    description:
      'As in release 1 (closed after three days, noticed through ticketChanged): with the order-limits and records-in-order markers and the ticket content planned once.',
    ...closedAfterThreeDays,
  },
  {
    name: 'continued-as-new',
    release: 2,
    description:
      'Checks every 10 minutes for 16 hours across runs; the carried state names its workflow chain; closed: Executed.',
    ...openForSixteenHours,
  },
  {
    name: 'missing-ticket',
    release: 2,
    description: 'The ticket is deleted in ServiceNow: three reads miss it, then Errored (ticket-missing).',
    assignmentId: 'audit-missing',
    async run({ sim, handle, ticket, sleep }) {
      await sleep(HOUR);
      await tableCall(sim, 'DELETE', `${ticket.table}/${ticket.sysId}`);
      await handle.result();
    },
  },
  {
    name: 'foreign-ticket',
    release: 2,
    description:
      "The ticket's correlation id is changed to another order's: it is no longer judged, and the order ends Errored (ticket-missing).",
    assignmentId: 'audit-foreign',
    async run({ sim, handle, ticket, sleep }) {
      await sleep(HOUR);
      await tableCall(sim, 'PATCH', `${ticket.table}/${ticket.sysId}`, { correlation_id: 'another-order' });
      await handle.result();
    },
  },
  {
    name: 'refused-cancel',
    release: 2,
    description:
      "Revoked while ServiceNow refuses the cancellation (the connector's write role removed): Errored, the reason says the ticket is left open.",
    assignmentId: 'audit-refused-cancel',
    async run({ sim, handle, sleep }) {
      await sleep(HOUR);
      const grants = (await tableCall(
        sim,
        'GET',
        `sys_user_has_role?sysparm_query=user=${ADMIN_USER_SYS_ID}&sysparm_fields=sys_id`,
      )) as { result: { sys_id: string }[] };
      for (const grant of grants.result) await tableCall(sim, 'DELETE', `sys_user_has_role/${grant.sys_id}`);
      await handle.executeUpdate(cancelUpdate, {
        args: [{ reason: 'request withdrawn', requestedBy: 'ops' }],
      });
      await handle.result();
    },
  },
  {
    name: 'cancel-before-plan',
    release: 2,
    description:
      'Canceled in Temporal as soon as it starts, before its ticket is planned: every ticket table is searched, none found, Errored.',
    assignmentId: 'audit-cancel-before-plan',
    beforeTicket: true,
    devServer: true,
    async run({ handle }) {
      await handle.cancel();
      await handle.result().catch(() => undefined);
    },
  },
  {
    name: 'failed-plan',
    release: 2,
    description:
      'A template error fails the order before any ticket: Errored is recorded with the reason, then the workflow fails.',
    assignmentId: 'audit-failed-plan',
    settings: {
      ResourceTypeMappings: {
        [RESOURCE_TYPES.incident]: {
          Connection: 'Sim',
          CallerId: 'admin',
          TitleTemplate: '{{#ifCond ChangeType "~=" "Added"}}x{{/ifCond}}',
          DescriptionTemplate: 'd',
        },
      },
    },
    beforeTicket: true,
    async run({ handle }) {
      await handle.result().catch(() => undefined);
    },
  },
  {
    name: 'upgraded-mid-order',
    release: 2,
    description:
      "Opened by the first release's workflow code (commit 20051cc), handed to this release's workers while waiting, then closed: the new paths (records in order) switch on mid-run; Executed.",
    assignmentId: 'audit-upgraded',
    startedBy: '20051cc',
    // The time-skipping server never hands a task left on a stopped worker's sticky queue to another worker.
    devServer: true,
    settings: { Polling: { FirstCheckAfter: '2s', MaxInterval: '5s', BackoffCoefficient: 2, Jitter: 0.1 } },
    async run({ handle, ticket, sleep, act, upgrade }) {
      await sleep(8_000);
      await upgrade();
      await sleep(8_000);
      act(ticket.number, 'close', { notes: 'Granted after the upgrade' });
      await handle.result();
    },
  },
  {
    name: 'revoked',
    release: 2,
    description:
      "Revoked with the cancel update: the ticket, checked to be the order's, is canceled; Errored.",
    ...revokedAfterFiveHours,
  },
  {
    name: 'workflow-canceled',
    release: 2,
    description:
      'Canceled in Temporal: the ticket is canceled and Errored recorded in a scope that cannot be canceled midway.',
    ...canceledInTemporal,
  },
];

/** A Table API call as the simulator's admin; the parsed answer, or undefined for 204. */
async function tableCall(
  sim: SimulatorHandle,
  method: string,
  pathAndQuery: string,
  body?: unknown,
): Promise<unknown> {
  const { login, password } = sim.credentials;
  const response = await fetch(`${sim.tableApiUrl}/${pathAndQuery}`, {
    method,
    headers: {
      Authorization: `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}`,
      Accept: 'application/json',
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${pathAndQuery}: HTTP ${response.status}`);
  return response.status === 204 ? undefined : response.json();
}

/**
 * The workflow code of an older commit, bundled as its workers would have: its src/ is extracted inside this
 * checkout (so that it resolves this checkout's node_modules) and bundled from there.
 */
async function bundleOfCommit(commit: string): Promise<WorkflowBundle> {
  const dir = path.join(ROOT, '.histories-build', commit);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  execFileSync('sh', ['-c', `git archive ${commit} src | tar -x -C "${dir}"`], { cwd: ROOT });
  try {
    return await bundleWorkflowCode({
      workflowsPath: path.join(dir, 'src', 'workflows'),
      logger: quietLogger,
    });
  } finally {
    rmSync(path.join(ROOT, '.histories-build'), { recursive: true, force: true });
  }
}

const quietLogger = { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} };

/**
 * One Temporal server (time-skipping unless the scenario says otherwise) and one simulator per scenario: the
 * server's clock starts at the wall clock's time (a shared server would leap years ahead between scenarios
 * while it skips to the timeouts of finished ones), and a scenario that takes the connector's roles away leaves
 * the next one untouched.
 */
async function recordScenario(outDir: string, dataDir: string, scenario: Scenario): Promise<string[]> {
  const clock = { offsetMs: 0 };
  const sim = await startSimulator({
    port: 0,
    randomSeed: 1,
    now: () => new Date(Date.now() + clock.offsetMs),
  });
  const env = scenario.devServer === true ? await createDevServerEnv() : await createTimeSkippingEnv();
  const taskQueue = `record-${scenario.release}-${scenario.name}`;
  const settings = simulatorSettings(sim, dataDir, scenario.settings);
  const ledger = openLedger(path.join(dataDir, `${taskQueue}.sqlite`));
  const current = await workflowBundle();
  const startWorker = async (bundle: WorkflowBundle) => {
    const worker = await createConnectorWorker({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      settings,
      assignments: ledger,
      workflowBundle: bundle,
    });
    return { worker, running: worker.run() };
  };
  let active = await startWorker(
    scenario.startedBy === undefined ? current : await bundleOfCommit(scenario.startedBy),
  );
  const stopWorker = async () => {
    active.worker.shutdown();
    await active.running;
  };
  try {
    // As Identity Manager starts it: snow-ticket's client.
    const input = testOrder(RESOURCE_TYPES.incident, {
      AssignedResourceTypeId: scenario.assignmentId,
      ...scenario.order,
    });
    const started = await startOrder(env.client, input, { taskQueue });
    const handle = env.client.workflow.getHandle<typeof provisioningWorkflow>(started.workflowId);
    const context = {
      sim,
      handle,
      sleep: async (ms: number) => {
        await env.sleep(ms);
        clock.offsetMs = (await env.currentTimeMs()) - Date.now();
      },
      act: (
        number: string,
        action: TicketAction,
        options: { outcome?: CloseOutcome; notes?: string } = {},
      ) => {
        sim.instance.actOnTicket(number, { action, ...options });
      },
      upgrade: async () => {
        await stopWorker();
        active = await startWorker(current);
      },
    };
    if (scenario.beforeTicket === true) {
      await scenario.run(context);
    } else {
      // Waited for in real time, so that the server's clock stays put until the scenario moves it.
      const ticket = await waitFor(
        `the ticket of ${handle.workflowId}`,
        async () => (await handle.query(statusQuery)).ticket,
      );
      await scenario.run({ ...context, ticket });
    }
    const runs = await fetchRunHistories(env.client, handle.workflowId);
    return runs.map((run, index) => {
      const name = runs.length === 1 ? scenario.name : `${scenario.name}-run${index + 1}`;
      const file = path.join(outDir, `${name}.json`);
      const json = historyJSON(run.history);
      if (Buffer.byteLength(json) > MAX_FILE_BYTES) {
        throw new Error(
          `${name}: ${Buffer.byteLength(json)} bytes, over ${MAX_FILE_BYTES}; shorten the scenario`,
        );
      }
      writeFileSync(file, json);
      return path.basename(file);
    });
  } finally {
    await stopWorker();
    await env.teardown();
    await ledger.close();
    await sim.close();
  }
}

/** Which code recorded a scenario: the commit, whether the workflow code differed from it, and its digest. */
interface CodeVersion {
  readonly commit: string;
  readonly workflowChanged: boolean;
  readonly workflowDigest: string;
  readonly sdk: string;
  readonly recordedOn: string;
}

async function codeVersion(): Promise<CodeVersion> {
  const git = (...args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
    } catch {
      return '';
    }
  };
  // Exactly what runs in the workflow sandbox: the bundle's own files, shared contract included.
  const files = bundledProjectFiles((await workflowBundle()).code);
  const sdk = (
    JSON.parse(readFileSync(require.resolve('@temporalio/worker/package.json'), 'utf8')) as {
      version: string;
    }
  ).version;
  return {
    commit: git('rev-parse', '--short', 'HEAD') || 'unknown',
    workflowChanged: git('status', '--porcelain', '--', ...WORKFLOW_CODE_DIRS) !== '',
    workflowDigest: workflowCodeDigest(ROOT, files),
    sdk,
    recordedOn: new Date().toISOString().slice(0, 10),
  };
}

/** What `recorded.manifest` in a release folder keeps per scenario, so that adding one keeps the others' record. */
type Manifest = Record<
  string,
  { readonly files: readonly string[]; readonly description: string } & CodeVersion
>;

function readme(release: number, manifest: Manifest): string {
  const lines = [
    `# Recorded workflow histories: release ${release}`,
    '',
    'Histories of the provisioning workflow, one JSON file per run, in the format of',
    '`temporal workflow show --output json` and of the Web UI download (`historyFromJSON` reads them).',
    '`test/audit/replay.test.ts` replays every file under `test/histories/` against the current workflow code.',
    '',
    '**Never regenerate these histories to make a replay test pass after a workflow change.** They stand for',
    'workflows already running in production: a replay failure means the change would break them. Keep the',
    "old behaviour for histories that reached that point with `patched('<change-id>')` (and `deprecatePatch`",
    'once no such workflow is left), then record the new behaviour as scenarios of the next release',
    '(`npm run histories:record -- --release <n>`; `--add` records scenarios missing from an existing folder).',
    '',
    'Recorded by `scripts/record-histories.ts`: time-skipping test server, ServiceNow simulator, a real worker',
    'with the connector activities and a SQLite ledger. The digest is sha-256 over the files bundled into the',
    'workflow code (src/workflows and src/contract), first 16 hex digits.',
    '',
    '| scenario | files | what happens | recorded by |',
    '| -------- | ----- | ------------ | ----------- |',
    ...Object.entries(manifest).map(
      ([name, entry]) =>
        `| ${name} | ${entry.files.join('<br>')} | ${entry.description} | commit ${entry.commit}` +
        `${entry.workflowChanged ? ' (uncommitted workflow changes)' : ''}, digest ${entry.workflowDigest}, ` +
        `SDK ${entry.sdk}, ${entry.recordedOn} |`,
    ),
    '',
    'A workflow that continued as new has one file per run (`<scenario>-runN.json`), in run order.',
    '',
  ];
  return lines.join('\n');
}

function parseArguments(): { release: number; add: boolean } {
  const latest = Math.max(...scenarios.map((scenario) => scenario.release));
  const args = process.argv.slice(2);
  const releaseAt = args.indexOf('--release');
  const release = releaseAt === -1 ? latest : Number(args[releaseAt + 1]);
  const unknown = args.filter(
    (arg, index) => arg !== '--add' && arg !== '--release' && index !== releaseAt + 1,
  );
  if (
    !Number.isInteger(release) ||
    !scenarios.some((scenario) => scenario.release === release) ||
    unknown.length > 0
  ) {
    throw new Error(`usage: record-histories [--release <1..${latest}>] [--add]`);
  }
  return { release, add: args.includes('--add') };
}

async function main(): Promise<void> {
  const { release, add } = parseArguments();
  const outDir = path.join(OUT_DIR, `release-${release}`);
  mkdirSync(outDir, { recursive: true });
  const manifestFile = path.join(outDir, 'recorded.manifest');
  const manifest: Manifest = existsSync(manifestFile)
    ? (JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest)
    : {};
  const existing = readdirSync(outDir).filter(
    (name) => name.endsWith('.json') && name !== 'recorded.manifest',
  );
  if (existing.length > 0 && !add) {
    throw new Error(
      `${path.relative(ROOT, outDir)} already holds histories: they stand for running workflows and are never ` +
        'recorded again. Use --add to record only the scenarios it lacks.',
    );
  }
  const version = await codeVersion();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'record-histories-'));
  try {
    for (const scenario of scenarios.filter((candidate) => candidate.release === release)) {
      const recorded = [`${scenario.name}.json`, `${scenario.name}-run1.json`].some((file) =>
        existing.includes(file),
      );
      if (Object.hasOwn(manifest, scenario.name) || recorded) continue;
      const files = await recordScenario(outDir, dataDir, scenario);
      console.log(`${scenario.name}: ${files.join(', ')}`);
      manifest[scenario.name] = { files, description: scenario.description, ...version };
      writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
    }
    writeFileSync(path.join(outDir, 'README.md'), readme(release, manifest));
    console.log(`Histories written to ${path.relative(ROOT, outDir)}/`);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
