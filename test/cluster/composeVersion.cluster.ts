import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { TEMPORAL_SERVER_VERSION } from '../../scripts/cluster/serverBinaries';

/** The cluster test proves the server release the compose topology runs only while both name the same one. */
test('docker-compose.yml defaults to the Temporal server version the cluster test builds', () => {
  const compose = parse(readFileSync(path.resolve(__dirname, '..', '..', 'docker-compose.yml'), 'utf8')) as {
    services: Record<string, { image?: string }>;
  };
  assert.equal(
    compose.services.temporal?.image,
    `temporalio/auto-setup:\${TEMPORAL_VERSION:-${TEMPORAL_SERVER_VERSION}}`,
  );
  assert.match(
    compose.services['temporal-setup']?.image ?? '',
    new RegExp(
      `^temporalio/admin-tools:\\$\\{TEMPORAL_ADMINTOOLS_VERSION:-${TEMPORAL_SERVER_VERSION.replaceAll('.', '\\.')}-`,
    ),
  );
});
