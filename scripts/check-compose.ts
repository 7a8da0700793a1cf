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
import * as path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { composeSchemaValidator, formatSchemaErrors } from './check-compose/composeSchema';
import { interpolateTree, type RequiredVariable } from './check-compose/interpolation';
import { firstLine, isObject, makeLocator, type Json } from './check-compose/locations';
import { checkProjectRules } from './check-compose/projectRules';

export interface CheckOptions {
  /**
   * Directory that relative paths (bind mounts, build contexts) resolve against, like
   * `docker compose --project-directory`. Defaults to the compose file's directory.
   */
  projectDir?: string;
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
  const required: RequiredVariable[] = [];
  const interpolated = interpolateTree(raw, [], locator, problems, required);
  if (!isObject(interpolated)) return problems;

  const validate = await composeSchemaValidator();
  if (!validate(interpolated))
    problems.push(...formatSchemaErrors(validate.errors ?? [], interpolated, locator));

  problems.push(...checkProjectRules(interpolated, projectDir, locator, { raw, required }));
  return problems;
}

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
