import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseDocument, type Document } from 'yaml';
import { checkComposeFile } from '../../scripts/check-compose';
import {
  interpolateString,
  interpolateTree,
  type RequiredVariable,
} from '../../scripts/check-compose/interpolation';

const repoRoot = path.resolve(__dirname, '..', '..');
const realComposeFile = path.join(repoRoot, 'docker-compose.yml');
const realComposeText = fs.readFileSync(realComposeFile, 'utf8');
const scratchDirs: string[] = [];

after(() => {
  for (const dir of scratchDirs) fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * A throw-away project directory holding a compose file plus every path it bind-mounts or builds from, so
 * each broken copy differs from a known-clean baseline by exactly one defect and every test can demand the
 * exact list of problems (not merely "some problem").
 */
function makeProject(composeText: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'compose-check-'));
  scratchDirs.push(dir);
  fs.copyFileSync(path.join(repoRoot, 'Dockerfile'), path.join(dir, 'Dockerfile'));
  fs.cpSync(path.join(repoRoot, 'deploy'), path.join(dir, 'deploy'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'config'));
  const file = path.join(dir, 'docker-compose.yml');
  fs.writeFileSync(file, composeText);
  return file;
}

function mutated(edit: (doc: Document) => void): string {
  const doc = parseDocument(realComposeText, { merge: true });
  edit(doc);
  return makeProject(doc.toString());
}

/** Problems start with "file:line:col: "; the location is asserted separately where it matters. */
function withoutLocation(problems: string[], file: string): string[] {
  return problems.map((problem) => {
    assert.ok(problem.startsWith(`${file}:`), `problem should start with the file name: ${problem}`);
    return problem.slice(file.length).replace(/^:\d+:\d+: /, '');
  });
}

test('the repository docker-compose.yml has no problems', async () => {
  assert.deepEqual(await checkComposeFile(realComposeFile), []);
});

test('an unmodified copy in a scratch project has no problems (baseline for the broken copies)', async () => {
  assert.deepEqual(await checkComposeFile(makeProject(realComposeText)), []);
});

test('reports a YAML syntax error with its line number', async () => {
  const lines = realComposeText.split('\n');
  const index = lines.findIndex((line) => line.trim() === "restart: 'no'");
  assert.ok(index >= 0, 'fixture: temporal-setup declares restart: "no"');
  lines[index] = "    restart: 'no";
  const file = makeProject(lines.join('\n'));

  const problems = await checkComposeFile(file);
  assert.ok(problems.length > 0);
  assert.match(problems[0] ?? '', /^.*:(\d+):\d+: YAML syntax error: Missing closing 'quote/);
  const line = Number(/:(\d+):\d+: YAML/.exec(problems[0] ?? '')?.[1]);
  assert.equal(line, index + 1, 'the error points at the edited line');
});

test('reports a schema violation: ports must be a list', async () => {
  const file = mutated((doc) => doc.setIn(['services', 'temporal-ui', 'ports'], 12));
  assert.deepEqual(withoutLocation(await checkComposeFile(file), file), [
    'schema: services.temporal-ui.ports must be array',
  ]);
});

test('reports a schema violation: unknown top-level key', async () => {
  const file = mutated((doc) => doc.set('servics', doc.createNode({ worker: { image: 'x' } })));
  assert.deepEqual(withoutLocation(await checkComposeFile(file), file), [
    'schema: (top level) must NOT have additional properties ("servics")',
  ]);
});

test('reports depends_on to a missing service', async () => {
  const file = mutated((doc) =>
    doc.setIn(
      ['services', 'worker', 'depends_on', 'temporl'],
      doc.createNode({ condition: 'service_healthy' }),
    ),
  );
  assert.deepEqual(withoutLocation(await checkComposeFile(file), file), [
    'services.worker.depends_on.temporl: "temporl" is not a service in this file',
  ]);
});

test('reports a worker with container_name, which cannot scale', async () => {
  const file = mutated((doc) => doc.setIn(['services', 'worker', 'container_name'], 'snow-worker'));
  const problems = await checkComposeFile(file);
  assert.deepEqual(withoutLocation(problems, file), [
    'services.worker.container_name: must not be set: a fixed container name makes ' +
      '"docker compose up --scale worker=N" fail',
  ]);
  const line = Number(/^.*?:(\d+):\d+: /.exec(problems[0] ?? '')?.[1]);
  assert.match(fs.readFileSync(file, 'utf8').split('\n')[line - 1] ?? '', /container_name: snow-worker/);
});

test('reports a worker publishing a fixed host port', async () => {
  const file = mutated((doc) =>
    doc.setIn(['services', 'worker', 'ports'], doc.createNode(['127.0.0.1:8080:8080'])),
  );
  assert.deepEqual(withoutLocation(await checkComposeFile(file), file), [
    'services.worker.ports[0]: publishes fixed host port 8080; replicas from --scale would collide on it ' +
      '(the healthcheck probes the worker from inside the container, so no port needs publishing)',
  ]);
});

test('reports a worker not built from the repository Dockerfile', async () => {
  const file = mutated((doc) => doc.setIn(['services', 'worker', 'build', 'dockerfile'], 'Dockerfile.dev'));
  const dir = path.dirname(file);
  assert.deepEqual(withoutLocation(await checkComposeFile(file), file), [
    `services.worker.build: must use the repository's Dockerfile (${path.join(dir, 'Dockerfile')}), ` +
      `not ${path.join(dir, 'Dockerfile.dev')}`,
  ]);
});

test('reports a bind-mounted file that does not exist', async () => {
  const file = mutated((doc) =>
    doc.addIn(
      ['services', 'worker', 'volumes'],
      './config/appsettings.encrypted.agent.json:/config/enc.json:ro',
    ),
  );
  const missing = path.join(path.dirname(file), 'config', 'appsettings.encrypted.agent.json');
  assert.deepEqual(withoutLocation(await checkComposeFile(file), file), [
    `services.worker.volumes[2]: bind-mount source "./config/appsettings.encrypted.agent.json" does not exist ` +
      `(looked for ${missing})`,
  ]);
});

test('reports a long-running service without a healthcheck', async () => {
  const file = mutated((doc) => doc.deleteIn(['services', 'temporal-ui', 'healthcheck']));
  assert.deepEqual(withoutLocation(await checkComposeFile(file), file), [
    'services.temporal-ui: has no healthcheck; add one, or mark a one-shot job with restart: "no"',
  ]);
});

test('reports malformed ${VAR} interpolation', async () => {
  const file = mutated((doc) => {
    doc.setIn(['services', 'worker', 'environment', 'TEMPORAL_NAMESPACE'], '${TEMPORAL NAMESPACE}');
    doc.setIn(['services', 'worker', 'environment', 'TEMPORAL_TASK_QUEUE'], '${TEMPORAL_TASK_QUEUE:-tickets');
  });
  assert.deepEqual(withoutLocation(await checkComposeFile(file), file), [
    'services.worker.environment.TEMPORAL_NAMESPACE: invalid interpolation "${TEMPORAL NAMESPACE}": ' +
      'unsupported modifier after the variable name (use :-, -, :+, +, :? or ?)',
    'services.worker.environment.TEMPORAL_TASK_QUEUE: invalid interpolation "${TEMPORAL_TASK_QUEUE:-tickets": ' +
      'missing closing "}"',
  ]);
});

test('interpolation follows compose rules: $$ escapes, nested defaults, bare $NAME', () => {
  const reported: string[] = [];
  const report = (snippet: string, reason: string): void => {
    reported.push(`${snippet}: ${reason}`);
  };
  assert.equal(
    interpolateString('pg_isready -U "$${POSTGRES_USER}"', report),
    'pg_isready -U "${POSTGRES_USER}"',
  );
  assert.equal(interpolateString('${A:-${B:-8233}}:8080', report), '8233:8080');
  assert.equal(interpolateString('x$UNSET-y', report), 'x-y');
  assert.deepEqual(reported, []);
  assert.equal(interpolateString('echo $1', report), 'echo $1');
  assert.deepEqual(reported, ['$1: a "$" must start ${NAME} or $NAME; write "$$" for a literal dollar sign']);
});

test('the CLI exits non-zero and lists the problems', () => {
  const file = mutated((doc) => doc.setIn(['services', 'worker', 'container_name'], 'snow-worker'));
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/check-compose.ts', file], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  assert.equal(result.status, 1, result.stderr);
  assert.match(result.stderr, /1 problem:\n {2}- .*services\.worker\.container_name: must not be set/);
});

test('reports a Temporal server role that no service runs', async () => {
  const file = mutated((doc) =>
    doc.setIn(['services', 'temporal-matching', 'environment', 'SERVICES'], 'history'),
  );
  assert.deepEqual(withoutLocation(await checkComposeFile(file), file), [
    'services: no Temporal matching service (temporalio/server with SERVICES: matching)',
  ]);
});

test('reports server roles that disagree on a cluster-wide setting', async () => {
  const file = mutated((doc) =>
    doc.setIn(['services', 'temporal-history', 'environment', 'NUM_HISTORY_SHARDS'], '8'),
  );
  assert.deepEqual(withoutLocation(await checkComposeFile(file), file), [
    'services.temporal-history.environment.NUM_HISTORY_SHARDS: NUM_HISTORY_SHARDS is "8" but "4" in ' +
      'services.temporal-frontend; every role of one cluster needs the same',
  ]);
});

test('reports a server role that runs another release', async () => {
  const file = mutated((doc) =>
    doc.setIn(['services', 'temporal-worker', 'image'], 'temporalio/server:${TEMPORAL_VERSION:-1.28.0}'),
  );
  assert.deepEqual(withoutLocation(await checkComposeFile(file), file), [
    'services.temporal-worker.image: runs temporalio/server:1.28.0 but services.temporal-frontend runs 1.29.1; ' +
      'the roles of one cluster run one release',
  ]);
});

test('reports a server role that does not wait for the schema job', async () => {
  const file = mutated((doc) =>
    doc.setIn(
      ['services', 'temporal-history', 'depends_on'],
      doc.createNode({ postgresql: { condition: 'service_healthy' } }),
    ),
  );
  assert.deepEqual(withoutLocation(await checkComposeFile(file), file), [
    'services.temporal-history.depends_on: must wait for the schema job (a temporalio/admin-tools service, ' +
      'condition service_completed_successfully): a role started on a database that is not migrated yet fails',
  ]);
});

test('reports temporalio/auto-setup, which migrates the schema a second way', async () => {
  const file = mutated((doc) =>
    doc.setIn(
      ['services', 'temporal'],
      doc.createNode({ image: 'temporalio/auto-setup:1.29.1', restart: 'no' }),
    ),
  );
  assert.deepEqual(withoutLocation(await checkComposeFile(file), file), [
    'services.temporal.image: temporalio/auto-setup migrates the schema itself and runs every role in one ' +
      'process; run each role on temporalio/server after the schema job instead',
  ]);
});

test('reports a TEMPORAL_ADDRESS that is not the frontend, and a client that does not wait for it', async () => {
  const file = mutated((doc) => {
    doc.setIn(['services', 'worker', 'environment', 'TEMPORAL_ADDRESS'], 'temporal:7233');
    doc.deleteIn(['services', 'temporal-ui', 'depends_on']);
  });
  assert.deepEqual(withoutLocation(await checkComposeFile(file), file), [
    'services.temporal-ui: connects to temporal-frontend but does not wait for it ' +
      '(depends_on temporal-frontend: condition service_healthy)',
    'services.worker.environment.TEMPORAL_ADDRESS: "temporal:7233" is not the Temporal frontend service ' +
      '(temporal-frontend)',
  ]);
});

test('reports a port published on every interface by default', async () => {
  const file = mutated((doc) =>
    doc.setIn(['services', 'temporal-ui', 'ports'], doc.createNode(['8233:8080'])),
  );
  assert.deepEqual(withoutLocation(await checkComposeFile(file), file), [
    'services.temporal-ui.ports[0]: published on every interface by default; bind it to 127.0.0.1 and let a ' +
      'variable open it (e.g. ${..._BIND_IP:-127.0.0.1}:...), since nothing here authenticates by itself',
  ]);
});

test('reports a required variable in a profiled service, and a dependency on a profiled service', async () => {
  const file = mutated((doc) => {
    doc.setIn(
      ['services', 'push-receiver', 'environment', 'SNOW_CONNECTOR__TicketConnector__Push__Secret'],
      '${SNOW_PUSH_SECRET:?set SNOW_PUSH_SECRET}',
    );
    doc.setIn(
      ['services', 'temporal-ui', 'depends_on', 'push-receiver'],
      doc.createNode({ condition: 'service_started' }),
    );
  });
  assert.deepEqual(withoutLocation(await checkComposeFile(file), file), [
    'services.temporal-ui.depends_on.push-receiver: "push-receiver" only runs with profile push, so compose ' +
      'refuses to start this service without it',
    'services.push-receiver.environment.SNOW_CONNECTOR__TicketConnector__Push__Secret: requires SNOW_PUSH_SECRET, ' +
      'and compose interpolates every service before it applies profiles: `docker compose up` without profile ' +
      'push would stop on it too; let the service refuse to start instead',
  ]);
});

test('reports a worker whose call budget share does not follow its replica count', async () => {
  const file = mutated((doc) =>
    doc.setIn(['services', 'worker', 'environment', 'SNOW_CONNECTOR__TicketConnector__Budget__Workers'], '1'),
  );
  assert.deepEqual(withoutLocation(await checkComposeFile(file), file), [
    'services.worker.environment.SNOW_CONNECTOR__TicketConnector__Budget__Workers: ' +
      'SNOW_CONNECTOR__TicketConnector__Budget__Workers must be "${WORKER_REPLICAS:-1}" like deploy.replicas ' +
      '(is "1"): each worker takes 1/Budget.Workers of the ServiceNow call budget, so more replicas than that ' +
      'exceed it',
  ]);
});

test('interpolation casts typed fields like compose and collects required variables', () => {
  const problems: string[] = [];
  const required: RequiredVariable[] = [];
  const locator = { at: () => 'f' };
  const tree = interpolateTree(
    { services: { w: { deploy: { replicas: '${N:-3}' }, environment: { A: '${N:-3}', B: '${S:?set S}' } } } },
    [],
    locator,
    problems,
    required,
  );
  assert.deepEqual(tree, { services: { w: { deploy: { replicas: 3 }, environment: { A: '3', B: '' } } } });
  assert.deepEqual(problems, []);
  assert.deepEqual(required, [{ name: 'S', segments: ['services', 'w', 'environment', 'B'] }]);
});

test('reports a schema job from another release than the server', async () => {
  const file = mutated((doc) =>
    doc.setIn(
      ['services', 'temporal-schema', 'image'],
      'temporalio/admin-tools:${TEMPORAL_ADMINTOOLS_VERSION:-1.28.0-tctl-1.18.4-cli-1.3.0}',
    ),
  );
  assert.deepEqual(withoutLocation(await checkComposeFile(file), file), [
    'services.temporal-schema.image: temporalio/admin-tools:1.28.0-tctl-1.18.4-cli-1.3.0 ships the schema of ' +
      "another release than services.temporal-frontend's temporalio/server:1.29.1",
  ]);
});
