import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The folders whose files may be bundled into workflow code: the workflows and their contract. */
export const WORKFLOW_CODE_DIRS = ['src/workflows/', 'src/contract/'] as const;

/**
 * The project's own files in a workflow bundle (`bundleWorkflowCode(...).code`), as paths relative to the
 * project root. Webpack names every module by its path in the bundle, so this is exactly what runs in the
 * sandbox, shared schemas and types included.
 */
export function bundledProjectFiles(bundleCode: string): string[] {
  const files = new Set<string>();
  for (const match of bundleCode.matchAll(/"\.\/(src\/[^"]+\.ts)"/g)) {
    if (match[1] !== undefined) files.add(match[1]);
  }
  return [...files].sort();
}

/** A digest of the workflow code: sha-256 over each bundled file's path and content, first 16 hex digits. */
export function workflowCodeDigest(root: string, files: readonly string[]): string {
  const digest = createHash('sha256');
  for (const file of [...files].sort()) {
    digest
      .update(file)
      .update('\0')
      .update(readFileSync(path.join(root, file)));
  }
  return digest.digest('hex').slice(0, 16);
}
