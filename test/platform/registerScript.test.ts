import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { requireBinary } from '../../src/platform/temporalBinaries';
import { customSearchAttributes } from '../../src/contract/searchAttributes';
import { createDevServerEnv } from '../helpers/temporal';

const script = path.join(__dirname, '..', '..', 'deploy', 'temporal', 'register.sh');

/**
 * The compose topology's setup job, run for real against a dev server with the same CLI the admin-tools
 * image ships: it must create the namespace and exactly the search attributes the workflows use.
 */
describe('deploy/temporal/register.sh', () => {
  let env: TestWorkflowEnvironment;
  before(async () => {
    // The script has to register the search attributes itself.
    env = await createDevServerEnv({ registerSearchAttributes: false });
  });
  after(async () => {
    await env?.teardown();
  });

  const runScript = () =>
    spawnSync('sh', [script], {
      encoding: 'utf8',
      timeout: 180_000,
      env: {
        PATH: `${path.dirname(requireBinary('cli'))}:${process.env.PATH ?? ''}`,
        TEMPORAL_ADDRESS: env.address,
        TEMPORAL_NAMESPACE: 'connector-setup',
        SETUP_SLEEP_SECONDS: '1',
      },
    });

  test('creates the namespace and the search attributes, and succeeds again when they exist', async () => {
    const first = runScript();
    assert.equal(first.status, 0, `${first.stdout}${first.stderr}`);
    assert.match(first.stdout, /namespace connector-setup: created/);

    const listed = await env.connection.operatorService.listSearchAttributes({
      namespace: 'connector-setup',
    });
    const keyword = 2; // temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
    assert.deepEqual(
      Object.fromEntries(Object.entries(listed.customAttributes ?? {}).sort()),
      Object.fromEntries(customSearchAttributes.map((key) => [key.name, keyword] as const).sort()),
    );

    const second = runScript();
    assert.equal(second.status, 0, `${second.stdout}${second.stderr}`);
    assert.match(second.stdout, /namespace connector-setup: already exists/);
    assert.match(second.stdout, /search attribute TicketNumber \(Keyword\): already exists/);
  });
});
