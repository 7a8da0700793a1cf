import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseDocument, type Document } from 'yaml';
import { checkComposeFile } from '../../scripts/check-compose';
import { interpolateString } from '../../scripts/check-compose/interpolation';

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
