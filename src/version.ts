import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The package version, reported by the worker so operators can tell which build ran a workflow. */
export const version: string = (
  JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }
).version;
