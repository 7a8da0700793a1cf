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
export function checkProjectRules(root: JsonObject, projectDir: string, locator: Locator): string[] {
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
