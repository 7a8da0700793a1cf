import { bundleWorkflowCode, DefaultLogger, Runtime, type WorkflowBundle } from '@temporalio/worker';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { requireBinary } from '../../src/platform/temporalBinaries';
import { registerSearchAttributes } from '../../src/platform/registerSearchAttributes';
import { customSearchAttributes } from '../../src/contract/searchAttributes';

/**
 * Throwaway Temporal servers started from the installed binaries, and the workflow code to run on them: for the
 * tests (through test/helpers/temporal.ts) and for the scripts that record histories. Uses
 * `@temporalio/testing`, a development dependency: nothing under src/ may import this.
 */

/** Worker state changes at INFO drown a test report or a script's output; warnings and errors still show. */
export function installQuietRuntime(): void {
  Runtime.install({ logger: new DefaultLogger('WARN') });
}

/** Bundling reports its progress at info level; only its warnings and errors are worth showing. */
export const quietLogger = {
  trace() {},
  debug() {},
  info() {},
  warn: console.warn,
  error: console.error,
  log() {},
};

const bundles = new Map<string, Promise<WorkflowBundle>>();

/**
 * Workflow code is bundled once per process and failure converter: bundling is the slowest step of starting a
 * worker. An encrypting worker's bundle carries its failure converter (see src/codec/dataConverters.ts).
 */
export function workflowBundle(failureConverterPath?: string): Promise<WorkflowBundle> {
  const key = failureConverterPath ?? '';
  let bundle = bundles.get(key);
  if (bundle === undefined) {
    bundle = bundleWorkflowCode({
      workflowsPath: require.resolve('../../src/workflows'),
      ...(failureConverterPath === undefined ? {} : { failureConverterPath }),
      logger: quietLogger,
    });
    bundles.set(key, bundle);
  }
  return bundle;
}

/** The Java-based time-skipping server: timers fast-forward while the test awaits a result. */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: requireBinary('testServer') } },
  });
  // The time-skipping server only knows built-in search attributes until told otherwise.
  await registerSearchAttributes(env.connection, env.namespace ?? 'default');
  return env;
}

/**
 * A real Temporal dev server (in-memory unless given a database file, loopback only, no UI), by default with the
 * connector's search attributes.
 */
export async function createDevServerEnv(
  options: { registerSearchAttributes?: boolean; dbFilename?: string } = {},
): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: requireBinary('cli') },
      ip: '127.0.0.1',
      ui: false,
      ...(options.dbFilename === undefined ? {} : { dbFilename: options.dbFilename }),
      searchAttributes: options.registerSearchAttributes === false ? [] : [...customSearchAttributes],
      extraArgs: ['--log-level', 'error'],
    },
  });
}
