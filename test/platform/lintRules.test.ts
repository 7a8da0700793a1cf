import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ESLint } from 'eslint';

const root = path.join(__dirname, '..', '..');
const eslint = new ESLint({ cwd: root });

/** Lints `code` as if it were the content of an existing project file, and returns the rules that fired. */
async function rulesFired(code: string, file: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  return (result?.messages ?? []).map((message) => `${message.ruleId ?? 'parse'}: ${message.message}`);
}

describe('lint rules that guard the product', () => {
  test('workflow code may not import Node built-ins or activity implementations', async () => {
    const fired = await rulesFired(
      [
        "import { readFileSync } from 'node:fs';",
        "import { createHash } from 'crypto';",
        "import { createActivities } from '../activities';",
        "import type { ConnectorActivities } from '../activities';",
        'export const used = [readFileSync, createHash, createActivities] as unknown as ConnectorActivities;',
      ].join('\n'),
      'src/workflows/selfCheck.ts',
    );
    assert.equal(fired.length, 3, fired.join('\n'));
    assert.match(fired[0] ?? '', /'node:fs'.*Workflow code must not use Node built-ins/);
    assert.match(fired[1] ?? '', /'crypto'.*Workflow code must not use Node built-ins/);
    assert.match(fired[2] ?? '', /'\.\.\/activities'.*import type/);
  });

  test('a floating promise is an error', async () => {
    const fired = await rulesFired(
      'async function work(): Promise<void> {}\nexport function start(): void {\n  work();\n}\n',
      'src/worker.ts',
    );
    assert.deepEqual(
      fired.map((line) => line.split(':')[0]),
      ['@typescript-eslint/no-floating-promises'],
    );
  });
});
