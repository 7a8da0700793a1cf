import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ESLint } from 'eslint';
import { bundledProjectFiles, WORKFLOW_CODE_DIRS, workflowCodeDigest } from '../../src/audit/workflowCode';
import {
  EXPORT_WORKFLOW_TYPE,
  PROVISIONING_WORKFLOW_TYPE,
  SELF_CHECK_WORKFLOW_TYPE,
} from '../../src/contract/names';
import { exportWorkflow, provisioningWorkflow, selfCheckWorkflow } from '../../src/workflows';
import { workflowBundle } from '../helpers/temporal';

const root = path.join(__dirname, '..', '..');

describe('what is bundled into workflow code', () => {
  test('only files of src/workflows and src/contract, which the replay-safety lint rules cover', async () => {
    const files = bundledProjectFiles((await workflowBundle()).code);
    assert.ok(files.includes('src/workflows/provisioning/workflow.ts'), files.join(', '));
    assert.ok(files.includes('src/contract/order.ts'), 'the shared order schema is bundled');
    const outside = files.filter((file) => !WORKFLOW_CODE_DIRS.some((dir) => file.startsWith(dir)));
    assert.deepEqual(outside, [], 'bundled files outside the workflow code folders');
    assert.match(workflowCodeDigest(root, files), /^[0-9a-f]{16}$/);
  });

  test('the lint rules of workflow code hold in every bundled folder', async () => {
    const eslint = new ESLint({ cwd: root });
    // Typed linting needs files of the project: lint each folder's text as one of its existing files.
    const existing: Record<(typeof WORKFLOW_CODE_DIRS)[number], string> = {
      'src/workflows/': 'selfCheck.ts',
      'src/contract/': 'limits.ts',
    };
    for (const dir of WORKFLOW_CODE_DIRS) {
      const [result] = await eslint.lintText(
        "import { readFileSync } from 'node:fs';\nexport const read = readFileSync;\n",
        {
          filePath: path.join(root, dir, existing[dir]),
        },
      );
      const rules = (result?.messages ?? []).map((message) => message.ruleId);
      assert.ok(rules.includes('@typescript-eslint/no-restricted-imports'), `${dir}: ${rules.join(', ')}`);
    }
  });

  test('the workflow type names of the contract are the names of the workflow functions', () => {
    assert.equal(provisioningWorkflow.name, PROVISIONING_WORKFLOW_TYPE);
    assert.equal(exportWorkflow.name, EXPORT_WORKFLOW_TYPE);
    assert.equal(selfCheckWorkflow.name, SELF_CHECK_WORKFLOW_TYPE);
  });

  test('the file list is read from webpack module ids and can report an outsider', () => {
    const code =
      '/***/ "./src/workflows/a.ts":\n/***/ "./src/servicenow/client.ts":\n"./node_modules/zod/index.js"';
    assert.deepEqual(bundledProjectFiles(code), ['src/servicenow/client.ts', 'src/workflows/a.ts']);
  });
});
