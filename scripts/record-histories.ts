/**
 * Records the committed workflow histories in test/histories/ (`npm run histories:record`): each scenario runs
 * the provisioning workflow (or a password reset, or the ticket sweep) on the time-skipping server, against the
 * ServiceNow simulator, with a real worker (the connector's activities, a SQLite ledger), and every run of its
 * workflow id is saved as JSON.
 *
 * Never regenerate the histories to make a replay test pass after a workflow change: the committed histories
 * stand for workflows already running in production. Guard the change with `patched()` instead, and record new
 * histories only for new behaviour (README in test/histories/).
 */
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
import { installQuietRuntime } from './harness/temporalServers';
import { codeVersion, readme, type Manifest } from './record-histories/manifest';
import { recordScenario, ROOT } from './record-histories/recordScenario';
import { scenarioKinds, scenarios } from './record-histories/scenarios';

const OUT_DIR = path.join(ROOT, 'test', 'histories');

/** The release to record and whether to add to its folder; undefined when only the usage was asked for. */
function parseArguments(): { release: number; add: boolean } | undefined {
  const latest = Math.max(...scenarios.map((scenario) => scenario.release));
  const usage = `usage: record-histories [--release <1..${latest}>] [--add]`;
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(usage);
    return undefined;
  }
  const releaseAt = args.indexOf('--release');
  const release = releaseAt === -1 ? latest : Number(args[releaseAt + 1]);
  const unknown = args.filter(
    (arg, index) => arg !== '--add' && index !== releaseAt && (releaseAt === -1 || index !== releaseAt + 1),
  );
  if (
    !Number.isInteger(release) ||
    !scenarios.some((scenario) => scenario.release === release) ||
    unknown.length > 0
  ) {
    throw new Error(usage);
  }
  return { release, add: args.includes('--add') };
}

async function main(): Promise<void> {
  const parsed = parseArguments();
  if (parsed === undefined) return;
  const { release, add } = parsed;
  installQuietRuntime();
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
    writeFileSync(path.join(outDir, 'README.md'), readme(release, manifest, scenarioKinds(release)));
    console.log(`Histories written to ${path.relative(ROOT, outDir)}/`);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
