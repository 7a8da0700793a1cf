import { formatPath, isObject, type JsonObject, type Locator, type PathSegment } from './locations';
import { dependsOn, environmentOf, environmentSegment, imageOf } from './serviceFields';

/**
 * The Temporal server as `npm run test:cluster` runs it (docs/cluster.md), which the compose file must keep
 * matching:
 * - one temporalio/server service per role (frontend, history, matching, worker; `SERVICES` names it), all on
 *   one release and one set of cluster-wide settings (the roles of one cluster must agree on the database and
 *   on the history shard count, which is fixed when the cluster is created);
 * - every role waits for the schema job (temporalio/admin-tools, same release) to complete, and nothing runs
 *   temporalio/auto-setup, which would migrate the schema a second way and run every role in one process;
 * - every client's TEMPORAL_ADDRESS is the frontend service's gRPC port, and the client waits for it to be healthy.
 */
export const TEMPORAL_ROLES = ['frontend', 'history', 'matching', 'worker'] as const;

const SERVER_IMAGE = 'temporalio/server';
const ADMIN_TOOLS_IMAGE = 'temporalio/admin-tools';
const AUTO_SETUP_IMAGE = 'temporalio/auto-setup';
/** The frontend's gRPC port in the image's config template unless FRONTEND_GRPC_PORT says otherwise. */
const FRONTEND_GRPC_PORT = '7233';
const CLUSTER_WIDE = [
  'DB',
  'DB_PORT',
  'POSTGRES_SEEDS',
  'POSTGRES_USER',
  'POSTGRES_PWD',
  'NUM_HISTORY_SHARDS',
  'DYNAMIC_CONFIG_FILE_PATH',
] as const;

interface RoleService {
  readonly name: string;
  readonly service: JsonObject;
  readonly role: string;
}

export function checkTemporalTopology(services: JsonObject, locator: Locator): string[] {
  const problems: string[] = [];
  const report = (segments: PathSegment[], message: string): void => {
    problems.push(`${locator.at(segments)}: ${formatPath(segments)}: ${message}`);
  };

  const roles: RoleService[] = [];
  for (const [name, service] of Object.entries(services)) {
    if (!isObject(service)) continue;
    const image = imageOf(service);
    if (image?.repository === AUTO_SETUP_IMAGE) {
      report(
        ['services', name, 'image'],
        `${AUTO_SETUP_IMAGE} migrates the schema itself and runs every role in one process; run each role on ` +
          `${SERVER_IMAGE} after the schema job instead`,
      );
    }
    if (image?.repository !== SERVER_IMAGE) continue;
    const role = environmentOf(service).get('SERVICES');
    if (role === undefined || !(TEMPORAL_ROLES as readonly string[]).includes(role)) {
      report(
        ['services', name, 'environment', environmentSegment(service, 'SERVICES')],
        `must name one server role (${TEMPORAL_ROLES.join(', ')}), got ${JSON.stringify(role ?? null)}`,
      );
      continue;
    }
    roles.push({ name, service, role });
  }

  for (const role of TEMPORAL_ROLES) {
    if (!roles.some((entry) => entry.role === role)) {
      problems.push(
        `${locator.at(['services'])}: services: no Temporal ${role} service (${SERVER_IMAGE} with SERVICES: ${role})`,
      );
    }
  }
  const [first] = roles;
  if (first === undefined) return problems;

  checkClusterWide(first, roles, report);
  const checkedJobs = new Set<string>();
  for (const entry of roles) checkWaitsForSchema(entry, services, checkedJobs, report);

  const frontends = roles.filter((entry) => entry.role === 'frontend');
  for (const [name, service] of Object.entries(services)) {
    if (!isObject(service) || roles.some((entry) => entry.name === name)) continue;
    checkTemporalClient(name, service, frontends, report);
  }
  return problems;
}

type Report = (segments: PathSegment[], message: string) => void;

function checkClusterWide(first: RoleService, roles: readonly RoleService[], report: Report): void {
  const firstImage = imageOf(first.service);
  const firstEnvironment = environmentOf(first.service);
  for (const entry of roles) {
    const environment = environmentOf(entry.service);
    if (!environment.has('NUM_HISTORY_SHARDS')) {
      report(
        ['services', entry.name, 'environment'],
        'must set NUM_HISTORY_SHARDS: the shard count is fixed when the cluster is created, and a role left ' +
          "on the image's default could disagree with the others",
      );
    }
    if (entry === first) continue;
    const image = imageOf(entry.service);
    if (image?.tag !== firstImage?.tag) {
      report(
        ['services', entry.name, 'image'],
        `runs ${SERVER_IMAGE}:${image?.tag ?? '?'} but services.${first.name} runs ${firstImage?.tag ?? '?'}; ` +
          'the roles of one cluster run one release',
      );
    }
    for (const key of CLUSTER_WIDE) {
      const value = environment.get(key);
      const expected = firstEnvironment.get(key);
      if (value !== expected) {
        report(
          ['services', entry.name, 'environment', environmentSegment(entry.service, key)],
          `${key} is ${JSON.stringify(value ?? null)} but ${JSON.stringify(expected ?? null)} in ` +
            `services.${first.name}; every role of one cluster needs the same`,
        );
      }
    }
  }
}

/** `checkedJobs`: the schema jobs whose release was compared already (the roles share one). */
function checkWaitsForSchema(
  entry: RoleService,
  services: JsonObject,
  checkedJobs: Set<string>,
  report: Report,
): void {
  const serverTag = imageOf(entry.service)?.tag ?? '';
  const schemaJobs = dependsOn(entry.service.depends_on).filter((dependency) => {
    const target = services[dependency.name];
    return isObject(target) && imageOf(target)?.repository === ADMIN_TOOLS_IMAGE;
  });
  const completed = schemaJobs.find(
    (dependency) => dependency.condition === 'service_completed_successfully',
  );
  if (completed === undefined) {
    report(
      ['services', entry.name, 'depends_on'],
      `must wait for the schema job (a ${ADMIN_TOOLS_IMAGE} service, condition service_completed_successfully): ` +
        'a role started on a database that is not migrated yet fails',
    );
    return;
  }
  if (checkedJobs.has(completed.name)) return;
  checkedJobs.add(completed.name);
  const job = services[completed.name];
  const jobTag = isObject(job) ? (imageOf(job)?.tag ?? '') : '';
  if (jobTag !== serverTag && !jobTag.startsWith(`${serverTag}-`)) {
    report(
      ['services', completed.name, 'image'],
      `${ADMIN_TOOLS_IMAGE}:${jobTag} ships the schema of another release than services.${entry.name}'s ` +
        `${SERVER_IMAGE}:${serverTag}`,
    );
  }
}

function checkTemporalClient(
  name: string,
  service: JsonObject,
  frontends: readonly RoleService[],
  report: Report,
): void {
  const address = environmentOf(service).get('TEMPORAL_ADDRESS');
  if (address === undefined) return;
  const segments = ['services', name, 'environment', environmentSegment(service, 'TEMPORAL_ADDRESS')];
  const colon = address.lastIndexOf(':');
  const host = colon < 0 ? address : address.slice(0, colon);
  const port = colon < 0 ? '' : address.slice(colon + 1);
  const frontend = frontends.find((entry) => entry.name === host);
  if (frontend === undefined) {
    const names = frontends.map((entry) => entry.name).join(' or ') || 'none defined';
    report(segments, `"${address}" is not the Temporal frontend service (${names})`);
    return;
  }
  const frontendPort = environmentOf(frontend.service).get('FRONTEND_GRPC_PORT') ?? FRONTEND_GRPC_PORT;
  if (port !== frontendPort) {
    report(segments, `"${address}": the frontend serves gRPC on port ${frontendPort}`);
  }
  const waits = dependsOn(service.depends_on).some(
    (dependency) => dependency.name === host && dependency.condition === 'service_healthy',
  );
  if (!waits) {
    report(
      ['services', name],
      `connects to ${host} but does not wait for it (depends_on ${host}: condition service_healthy)`,
    );
  }
}
