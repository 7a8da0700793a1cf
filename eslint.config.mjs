// @ts-check
import { builtinModules } from 'node:module';
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'lib/**',
      'node_modules/**',
      '.temporal/**',
      '.node/**',
      'data/**',
      'scratch/**',
      '.histories-build/**',
      'eslint.config.mjs',
      'deploy/servicenow/**', // ES5 for ServiceNow's Rhino engine, with Glide globals
    ],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // Temporal requires activities to return promises even when they have nothing to await.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no I/O, and activities only
    // as types (the implementations run on the worker, not inside the workflow). The contract is bundled with
    // the workflows, so the same rules hold there; test/workflows/bundle.test.ts checks that nothing else is.
    files: ['src/workflows/**/*.ts', 'src/contract/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: builtinModules.map((name) => ({
            name,
            message: 'Workflow code must not use Node built-ins.',
          })),
          patterns: [
            { group: ['node:*'], message: 'Workflow code must not use Node built-ins.' },
            {
              group: ['**/activities', '**/activities/**'],
              allowTypeImports: true,
              message: 'Import activities with `import type` and call them through proxyActivities.',
            },
            {
              group: ['axios', '@temporalio/worker', '@temporalio/client', '@temporalio/activity'],
              message: 'Not available inside the workflow sandbox.',
            },
          ],
        },
      ],
    },
  },
  {
    // Plain JavaScript: bin/ runs compiled or source code, scripts/setup-node.js runs before npm ci.
    files: ['bin/**/*.js', 'scripts/**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', __dirname: 'readonly', module: 'readonly', process: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // node:test's describe/test return promises that the runner itself tracks.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'test', 'it', 'suite'] },
          ],
        },
      ],
    },
  },
);
