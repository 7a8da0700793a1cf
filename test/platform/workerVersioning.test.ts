import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { decodeVersioningBehavior } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { openLedger } from '../../src/assignments/sqliteLedger';
import type { AssignmentStore } from '../../src/assignments/store';
import { ConfigError, loadConfig, parseSettings } from '../../src/config/load';
import {
  createConnectorWorker,
  resolveWorkerDeployment,
  workerDeploymentOptions,
  type WorkerDeployment,
} from '../../src/platform/connectorWorker';
import { requireBinary } from '../../src/platform/temporalBinaries';
import { defaultBuildIdentity, version } from '../../src/version';
import { describeDeployment } from '../../src/worker';
import { selfCheckWorkflow } from '../../src/workflows';
import { tempDir } from '../helpers/files';
import { createDevServerEnv, workflowBundle } from '../helpers/temporal';

const run = promisify(execFile);

function settingsWith(deployment: unknown) {
  return parseSettings({ TicketConnector: { Temporal: { Deployment: deployment } } }, 'test settings');
}

function configProblems(action: () => unknown): string[] {
  try {
    action();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error.problems;
  }
  assert.fail('expected a ConfigError');
}

describe('worker deployment settings', () => {
  test('default: deployment "snow-ticket", versioning off, build id from the package version and commit', () => {
    const settings = parseSettings({}, 'embedded defaults');
    assert.deepEqual(settings.TicketConnector.Temporal.Deployment, {
      Name: 'snow-ticket',
      Versioning: false,
    });
    const deployment = resolveWorkerDeployment(settings, {});
    assert.equal(deployment.deploymentName, 'snow-ticket');
    assert.equal(deployment.versioning, false);
    // This suite runs from a git checkout: <version>+<commit>, ".dirty" while files are being edited.
    assert.match(
      deployment.buildId,
      new RegExp(`^${version.replace(/\./g, '\\.')}\\+[0-9a-f]{7,40}(\\.dirty)?$`),
    );
    assert.deepEqual(workerDeploymentOptions(deployment), {
      version: { deploymentName: 'snow-ticket', buildId: deployment.buildId },
      useWorkerVersioning: false,
    });
  });

  test('SNOW_CONNECTOR_BUILD_ID is the default build id; the BuildId setting wins over it', () => {
    const env = { SNOW_CONNECTOR_BUILD_ID: ' 2.0.0-rc1+image.42 ' };
    const fromEnv = resolveWorkerDeployment(settingsWith({}), env);
    assert.equal(fromEnv.buildId, '2.0.0-rc1+image.42');
    assert.equal(fromEnv.buildIdSource, 'SNOW_CONNECTOR_BUILD_ID');
    // Empty, as docker-compose.yml passes it when unset: the default applies.
    assert.notEqual(resolveWorkerDeployment(settingsWith({}), { SNOW_CONNECTOR_BUILD_ID: '' }).buildId, '');

    const explicit = resolveWorkerDeployment(
      settingsWith({ Name: 'snow-eu', BuildId: 'b-7', Versioning: 'true' }),
      env,
    );
    assert.deepEqual(explicit, {
      deploymentName: 'snow-eu',
      buildId: 'b-7',
      buildIdSource: 'TicketConnector.Temporal.Deployment.BuildId',
      versioning: true,
    });
    assert.deepEqual(workerDeploymentOptions(explicit), {
      version: { deploymentName: 'snow-eu', buildId: 'b-7' },
      useWorkerVersioning: true,
      defaultVersioningBehavior: 'AUTO_UPGRADE',
    });
  });

  test('"" counts as unset, as in the reference format', () => {
    const settings = settingsWith({ Name: '', BuildId: '', Versioning: '' });
    assert.deepEqual(settings.TicketConnector.Temporal.Deployment, {
      Name: 'snow-ticket',
      Versioning: false,
    });
  });

  test('environment overrides reach the section, .NET style', () => {
    const { settings } = loadConfig({
      cwd: tempDir(),
      env: {
        SNOW_CONNECTOR__TicketConnector__Temporal__Deployment__Versioning: 'true',
        SNOW_CONNECTOR__TicketConnector__Temporal__Deployment__BuildId: 'ci-981',
      },
    });
    assert.deepEqual(settings.TicketConnector.Temporal.Deployment, {
      Name: 'snow-ticket',
      BuildId: 'ci-981',
      Versioning: true,
    });
  });

  test('every bad field is named with what is wrong', () => {
    const problems = configProblems(() =>
      settingsWith({ Name: 'snow.ticket', BuildId: '__build 1', Versioning: 'yes', Pinned: true }),
    );
    assert.deepEqual(problems, [
      'TicketConnector.Temporal.Deployment.Name: must not contain "." or ":" (the server writes versions as <name>.<buildId>)',
      'TicketConnector.Temporal.Deployment.BuildId: must not start with "__" (reserved by the Temporal server)',
      'TicketConnector.Temporal.Deployment.BuildId: must not contain spaces or control characters',
      'TicketConnector.Temporal.Deployment.Versioning: must be true or false',
      'TicketConnector.Temporal.Deployment.Pinned: is not a known setting (check the spelling)',
    ]);
    assert.deepEqual(
      configProblems(() => settingsWith({ Name: 'a:b', BuildId: 'x'.repeat(256) })),
      [
        'TicketConnector.Temporal.Deployment.Name: must not contain "." or ":" (the server writes versions as <name>.<buildId>)',
        'TicketConnector.Temporal.Deployment.BuildId: must be at most 255 characters',
      ],
    );
    assert.deepEqual(
      configProblems(() => settingsWith({ Name: '  ', BuildId: 7 })),
      [
        'TicketConnector.Temporal.Deployment.Name: must not be empty (expected a worker deployment name, e.g. snow-ticket)',
        'TicketConnector.Temporal.Deployment.BuildId: must be a string (expected a build id, e.g. 1.4.0+3f2a9c0)',
      ],
    );
    assert.deepEqual(
      configProblems(() => settingsWith('snow-ticket')),
      ['TicketConnector.Temporal.Deployment: must be a section with Name, BuildId and Versioning'],
    );
  });

  test('SNOW_CONNECTOR_BUILD_ID is checked like the setting', () => {
    const problems = configProblems(() =>
      resolveWorkerDeployment(settingsWith({}), { SNOW_CONNECTOR_BUILD_ID: '__unversioned__' }),
    );
    assert.deepEqual(problems, [
      'SNOW_CONNECTOR_BUILD_ID: must not start with "__" (reserved by the Temporal server)',
    ]);
  });

  test('versioning refuses a build id that every build of this version would share', () => {
    const packageVersionOnly = { buildId: version, source: 'package version', identifiesBuild: false };
    const problems = configProblems(() =>
      resolveWorkerDeployment(settingsWith({ Versioning: true }), {}, packageVersionOnly),
    );
    assert.equal(problems.length, 1);
    assert.match(
      problems[0] ?? '',
      /^TicketConnector\.Temporal\.Deployment\.BuildId: is missing: with Versioning true every build needs its own build id.*SNOW_CONNECTOR_BUILD_ID/,
    );
    // Without versioning the package version is good enough to report.
    assert.equal(resolveWorkerDeployment(settingsWith({}), {}, packageVersionOnly).buildId, version);
    // The container image has no git: the variable identifies the build.
    assert.equal(defaultBuildIdentity({ SNOW_CONNECTOR_BUILD_ID: 'img-5' }).identifiesBuild, true);
  });

  test('the start-up line names the build and, with versioning, how to make it current', () => {
    const target = { namespace: 'idm' } as Parameters<typeof describeDeployment>[1];
    const off = describeDeployment(resolveWorkerDeployment(settingsWith({ BuildId: 'b1' }), {}), target);
    assert.match(off, /build "b1" .* deployment "snow-ticket"; worker versioning off/);
    const on = describeDeployment(
      resolveWorkerDeployment(settingsWith({ BuildId: 'b1', Versioning: true }), {}),
      target,
    );
    assert.match(
      on,
      /temporal worker deployment set-current-version --deployment-name snow-ticket --build-id b1 --namespace idm$/,
    );
  });
});

describe('worker versioning on the dev server', () => {
  let env: TestWorkflowEnvironment;
  let address: string;
  const namespace = 'default';
  const ledgerDir = tempDir();
  const cleanups: (() => Promise<void>)[] = [];

  before(async () => {
    env = await createDevServerEnv({ registerSearchAttributes: false });
    address = env.connection.options.address;
  });
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await env?.teardown();
  });

  /** The Temporal CLI, as an operator would run it against this server. */
  async function temporal(...args: string[]): Promise<string> {
    const { stdout } = await run(requireBinary('cli'), [
      ...args,
      '--address',
      address,
      '--namespace',
      namespace,
    ]);
    return stdout;
  }

  /** The rollout (and rollback) step of the README. */
  async function setCurrentVersion(deploymentName: string, buildId: string): Promise<void> {
    await temporal(
      ...['worker', 'deployment', 'set-current-version', '--yes'],
      ...['--deployment-name', deploymentName, '--build-id', buildId],
    );
  }

  /** `temporal worker deployment describe` as JSON (the CLI's own field names). */
  async function describeWithCli(deploymentName: string) {
    const json = await temporal('worker', 'deployment', 'describe', '--name', deploymentName, '-o', 'json');
    return JSON.parse(json) as {
      routingConfig?: { currentVersionBuildID?: string };
      versionSummaries?: { BuildID?: string }[];
    };
  }

  /** Starts a worker of the given deployment; it runs until the suite ends. */
  async function startWorker(taskQueue: string, deployment: unknown): Promise<WorkerDeployment> {
    const settings = settingsWith(deployment);
    const resolved = resolveWorkerDeployment(settings, {});
    const assignments: AssignmentStore = openLedger(
      path.join(ledgerDir, `${taskQueue}-${resolved.buildId}.sqlite`),
    );
    const worker: Worker = await createConnectorWorker({
      connection: env.nativeConnection,
      namespace,
      taskQueue,
      settings,
      assignments,
      workflowBundle: await workflowBundle(),
    });
    const running = worker.run();
    cleanups.push(async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await assignments.close();
    });
    return resolved;
  }

  /** The server learns of a version from the first poll of one of its workers. */
  async function waitForVersion(deploymentName: string, buildId: string): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const { workerDeploymentInfo } = await env.client.workflowService.describeWorkerDeployment({
          namespace,
          deploymentName,
        });
        const known = (workerDeploymentInfo?.versionSummaries ?? []).map((v) => v.deploymentVersion?.buildId);
        if (known.includes(buildId)) return;
      } catch (error) {
        // NOT_FOUND until the first poll of the deployment's first worker arrives.
        if ((error as { code?: number }).code !== 5) throw error;
      }
      if (Date.now() > deadline) assert.fail(`version ${deploymentName}.${buildId} never became visible`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  async function versioningInfo(handle: WorkflowHandle) {
    const description = await handle.describe();
    const info = description.raw.workflowExecutionInfo?.versioningInfo;
    return {
      behavior: decodeVersioningBehavior(info?.behavior),
      buildId: info?.deploymentVersion?.buildId ?? undefined,
    };
  }

  async function selfCheck(taskQueue: string, workflowId: string) {
    const handle = await env.client.workflow.start(selfCheckWorkflow, { taskQueue, workflowId });
    const result = await handle.result();
    return { result, ...(await versioningInfo(handle)) };
  }

  test(
    'a versioned worker takes tasks once current; a second build rolls out, then back',
    { timeout: 120_000 },
    async () => {
      const taskQueue = 'versioned-self-check';
      const deploymentName = 'snow-ticket-test';
      await startWorker(taskQueue, { Name: deploymentName, BuildId: '0.1.0+build1', Versioning: true });
      await waitForVersion(deploymentName, '0.1.0+build1');

      // Visible to operators, through the CLI the README tells them to use.
      const described = await describeWithCli(deploymentName);
      assert.deepEqual(
        described.versionSummaries?.map((summary) => summary.BuildID),
        ['0.1.0+build1'],
      );
      assert.equal(described.routingConfig?.currentVersionBuildID, '');

      // Not current yet: a workflow started now waits; nothing routes it to the new build.
      const early = await env.client.workflow.start(selfCheckWorkflow, {
        taskQueue,
        workflowId: 'versioned-early',
      });
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const waiting = await early.describe();
      assert.equal(waiting.status.name, 'RUNNING');
      assert.equal((await versioningInfo(early)).buildId, undefined);

      await setCurrentVersion(deploymentName, '0.1.0+build1');
      assert.equal(
        (await describeWithCli(deploymentName)).routingConfig?.currentVersionBuildID,
        '0.1.0+build1',
      );
      // The waiting workflow and new ones now run on build 1, auto-upgrading.
      const earlyResult = await early.result();
      assert.equal(earlyResult.workflowId, 'versioned-early');
      assert.deepEqual(await versioningInfo(early), {
        behavior: 'AUTO_UPGRADE',
        buildId: '0.1.0+build1',
      });
      const first = await selfCheck(taskQueue, 'versioned-1');
      assert.equal(first.result.taskQueue, taskQueue);
      assert.equal(first.buildId, '0.1.0+build1');

      // Rollout: the new build starts next to the old one, takes over once made current.
      await startWorker(taskQueue, { Name: deploymentName, BuildId: '0.1.0+build2', Versioning: true });
      await waitForVersion(deploymentName, '0.1.0+build2');
      assert.equal((await selfCheck(taskQueue, 'versioned-still-1')).buildId, '0.1.0+build1');
      await setCurrentVersion(deploymentName, '0.1.0+build2');
      assert.equal((await selfCheck(taskQueue, 'versioned-2')).buildId, '0.1.0+build2');

      // Rollback: the old build's workers still poll, so making it current again is immediate.
      await setCurrentVersion(deploymentName, '0.1.0+build1');
      assert.equal((await selfCheck(taskQueue, 'versioned-rolled-back')).buildId, '0.1.0+build1');
    },
  );

  test(
    'with versioning off the worker takes tasks at once and the history names its build',
    { timeout: 60_000 },
    async () => {
      const taskQueue = 'unversioned-self-check';
      await startWorker(taskQueue, { Name: 'snow-ticket-plain', BuildId: '0.1.0+plain' });
      const handle = await env.client.workflow.start(selfCheckWorkflow, {
        taskQueue,
        workflowId: 'unversioned-1',
      });
      const result = await handle.result();
      assert.equal(result.worker.version, version);
      assert.deepEqual(await versioningInfo(handle), { behavior: undefined, buildId: undefined });

      // Every workflow task records who completed it: the Web UI and `temporal workflow show` display it.
      const history = await handle.fetchHistory();
      const completions = (history.events ?? []).flatMap((event) =>
        event.workflowTaskCompletedEventAttributes ? [event.workflowTaskCompletedEventAttributes] : [],
      );
      assert.ok(completions.length > 0);
      for (const completion of completions) {
        assert.equal(completion.workerDeploymentName, 'snow-ticket-plain');
        assert.equal(completion.workerVersion?.buildId, '0.1.0+plain');
      }
      // No routing: the server keeps no worker deployment for unversioned workers.
      await assert.rejects(
        env.client.workflowService.describeWorkerDeployment({
          namespace,
          deploymentName: 'snow-ticket-plain',
        }),
      );
    },
  );
});
