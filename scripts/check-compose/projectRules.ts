import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  formatPath,
  isObject,
  type Json,
  type JsonObject,
  type Locator,
  type PathSegment,
} from './locations';
import type { RequiredVariable } from './interpolation';
import { dependsOn, environmentOf, environmentSegment, profilesOf } from './serviceFields';
import { checkTemporalTopology } from './temporalRules';

/** What the rules need besides the interpolated file. */
export interface RuleContext {
  /** The file before interpolation: what a value is written as, e.g. which variable it takes. */
  readonly raw: JsonObject;
  readonly required: readonly RequiredVariable[];
}

/** Each worker's share of the ServiceNow call budget: 1 / this setting (README, "ServiceNow call budget"). */
const BUDGET_WORKERS = 'SNOW_CONNECTOR__TicketConnector__Budget__Workers';

/**
 * Rules the schema cannot see:
 * - every depends_on target exists, depends_on has no cycles, and conditions are satisfiable;
 * - every long-running service has a healthcheck (one-shot jobs say so with `restart: "no"`), because
 *   depends_on `service_healthy` and operators both rely on it;
 * - the worker is built from the repository's Dockerfile and can be scaled (no container_name, no fixed
 *   host port);
 * - named volumes are declared and every bind mount from the repository exists: Docker silently creates a
 *   missing short-syntax source as an empty directory, so a typo would surface as "config not found"
 *   inside the container instead of here;
 * - published ports bind to loopback unless a variable says otherwise: nothing here authenticates by itself;
 * - profiles: a service never depends on one a profile leaves out, and a profiled service requires no
 *   `${VAR:?}`, since compose interpolates every service before it applies profiles;
 * - the worker's Budget.Workers follows its replica count;
 * - the Temporal server's topology (see checkTemporalTopology).
 */
export function checkProjectRules(
  root: JsonObject,
  projectDir: string,
  locator: Locator,
  context: RuleContext,
): string[] {
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
      const missingProfiles =
        profilesOf(target).length === 0
          ? []
          : profilesOf(service).length === 0
            ? profilesOf(target)
            : profilesOf(service).filter((profile) => !profilesOf(target).includes(profile));
      if (profilesOf(target).length > 0 && missingProfiles.length > 0) {
        report(
          segments,
          `"${dependency.name}" only runs with profile ${profilesOf(target).join(' or ')}, so compose refuses ` +
            'to start this service without it',
        );
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
    problems.push(...checkPortsOnLoopback(service, base, locator));
  }

  for (const variable of context.required) {
    const [top, name] = variable.segments;
    const service = top === 'services' && typeof name === 'string' ? services[name] : undefined;
    if (!isObject(service) || profilesOf(service).length === 0) continue;
    problems.push(
      `${locator.at(variable.segments)}: ${formatPath(variable.segments)}: requires ${variable.name}, and ` +
        `compose interpolates every service before it applies profiles: \`docker compose up\` without profile ` +
        `${profilesOf(service).join(' or ')} would stop on it too; let the service refuse to start instead`,
    );
  }

  for (const cycle of findCycles(graph)) {
    problems.push(`${locator.at(['services', cycle[0] ?? ''])}: depends_on cycle: ${cycle.join(' -> ')}`);
  }

  const worker = services.worker;
  if (!isObject(worker)) {
    problems.push(`${locator.at(['services'])}: services: no "worker" service (the connector's worker)`);
  } else {
    problems.push(...checkWorker(worker, projectDir, locator));
    const rawServices = isObject(context.raw.services) ? context.raw.services : {};
    const rawWorker = rawServices.worker;
    if (isObject(rawWorker)) problems.push(...checkBudgetFollowsReplicas(rawWorker, locator));
  }
  problems.push(...checkTemporalTopology(services, locator));
  return problems;
}

/**
 * Written the same (e.g. both `${WORKER_REPLICAS:-1}`), so that scaling by the variable splits the budget too;
 * compared before interpolation, since with the defaults any two settings read 1.
 */
function checkBudgetFollowsReplicas(rawWorker: JsonObject, locator: Locator): string[] {
  const written = isObject(rawWorker.deploy) ? rawWorker.deploy.replicas : undefined;
  if (typeof written !== 'string' && typeof written !== 'number') return [];
  const replicas = String(written);
  const budget = environmentOf(rawWorker).get(BUDGET_WORKERS);
  if (budget === replicas) return [];
  const segments: PathSegment[] =
    budget === undefined
      ? ['services', 'worker', 'environment']
      : ['services', 'worker', 'environment', environmentSegment(rawWorker, BUDGET_WORKERS)];
  return [
    `${locator.at(segments)}: ${formatPath(segments)}: ${BUDGET_WORKERS} must be ${JSON.stringify(replicas)} ` +
      `like deploy.replicas (is ${JSON.stringify(budget ?? null)}): each worker takes 1/Budget.Workers of the ` +
      'ServiceNow call budget, so more replicas than that exceed it',
  ];
}

const LOOPBACK = new Set(['127.0.0.1', '::1']);

/** A published port's host address as compose reads it; undefined when none is given (every interface). */
function publishedHostIp(port: Json): string | undefined {
  if (typeof port === 'string') {
    if (port.startsWith('[')) return port.slice(1, port.indexOf(']'));
    const parts = port.replace(/\/[a-z]+$/i, '').split(':');
    return parts.length >= 3 ? parts[0] : undefined;
  }
  if (isObject(port) && typeof port.host_ip === 'string' && port.host_ip !== '') return port.host_ip;
  return undefined;
}

function checkPortsOnLoopback(service: JsonObject, base: PathSegment[], locator: Locator): string[] {
  const ports = Array.isArray(service.ports) ? service.ports : [];
  return ports.flatMap((port, index) => {
    if (publishedHostPort(port) === undefined) return [];
    const hostIp = publishedHostIp(port);
    if (hostIp !== undefined && LOOPBACK.has(hostIp)) return [];
    const segments: PathSegment[] = [...base, 'ports', index];
    return [
      `${locator.at(segments)}: ${formatPath(segments)}: published on ${hostIp ?? 'every interface'} by default; ` +
        'bind it to 127.0.0.1 and let a variable open it (e.g. ${..._BIND_IP:-127.0.0.1}:...), since nothing ' +
        'here authenticates by itself',
    ];
  });
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
