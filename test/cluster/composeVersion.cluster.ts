import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { TEMPORAL_SERVER_VERSION } from '../../scripts/cluster/serverBinaries';

/** The cluster test proves the server release the compose topology runs only while both name the same one. */
test('docker-compose.yml defaults to the Temporal server version the cluster test builds', () => {
  const compose = parse(readFileSync(path.resolve(__dirname, '..', '..', 'docker-compose.yml'), 'utf8'), {
    merge: true,
  }) as { services: Record<string, { image?: string }> };
  const roles = ['temporal-frontend', 'temporal-history', 'temporal-matching', 'temporal-worker'];
  for (const role of roles) {
    assert.equal(
      compose.services[role]?.image,
      `temporalio/server:\${TEMPORAL_VERSION:-${TEMPORAL_SERVER_VERSION}}`,
      role,
    );
  }
  const adminTools = new RegExp(
    `^temporalio/admin-tools:\\$\\{TEMPORAL_ADMINTOOLS_VERSION:-${TEMPORAL_SERVER_VERSION.replaceAll('.', '\\.')}-`,
  );
  // The schema job migrates with the release's schema; temporal-setup registers with its CLI.
  for (const job of ['temporal-schema', 'temporal-setup']) {
    assert.match(compose.services[job]?.image ?? '', adminTools, job);
  }
});
