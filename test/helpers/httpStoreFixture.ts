import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { createHttpAssignmentStore, type HttpAssignmentStoreOptions } from '../../src/assignments/httpStore';
import { IdentityManagerError } from '../../src/assignments/identityManagerError';
import type { AssignmentStore } from '../../src/assignments/store';
import {
  startFakeIdentityManager,
  type FakeIdentityManager,
  type FakeIdentityManagerOptions,
} from './fakeIdentityManager';
import { failureOf, renderings } from './serviceNowErrors';

export const TEMPLATE =
  '/api/assignments/{assignmentId}/orders/{orderId}?connection={connection}&state={state}';

/** A fake for the enclosing describe, and stores on it that are closed when the describe ends. */
export function httpStoreFixture(options: FakeIdentityManagerOptions = {}) {
  let fake: FakeIdentityManager | undefined;
  const stores: AssignmentStore[] = [];
  before(async () => {
    fake = await startFakeIdentityManager(options);
  });
  after(async () => {
    await Promise.all(stores.map((store) => store.close()));
    await fake?.close();
  });
  const im = () => {
    assert.ok(fake !== undefined, 'the fake Identity Manager is started by before()');
    return fake;
  };
  const store = (overrides: Partial<HttpAssignmentStoreOptions> = {}) => {
    const created = createHttpAssignmentStore({
      urlTemplate: `${im().url}${TEMPLATE}`,
      retryDelayMs: 1,
      timeoutMs: 5_000,
      ...overrides,
    });
    stores.push(created);
    return created;
  };
  return { im, store };
}

export function imFailure(action: () => Promise<unknown>): Promise<IdentityManagerError> {
  return failureOf(IdentityManagerError, action);
}

export function assertNoSecrets(error: Error, secrets: readonly string[]): void {
  for (const text of renderings(error)) {
    for (const secret of secrets) assert.ok(!text.includes(secret), `secret leaked: ${text}`);
  }
}
