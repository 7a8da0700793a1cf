/** The stores take whatever the order schema accepts: both use the limits of src/contract/limits.ts. */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createHttpAssignmentStore } from '../../src/assignments/httpStore';
import { IdentityManagerError } from '../../src/assignments/identityManagerError';
import { LedgerError } from '../../src/assignments/ledgerError';
import { openLedger } from '../../src/assignments/sqliteLedger';
import type { AssignmentStore, AssignmentTransition } from '../../src/assignments/store';
import {
  MAX_CONNECTION_LENGTH,
  MAX_FIELD_LENGTH,
  MAX_ID_LENGTH,
  MAX_NOTES_LENGTH,
  MAX_ORDER_ID_LENGTH,
} from '../../src/contract/limits';
import { parseProvisioningInput } from '../../src/contract/order';
import { TEST_TICKET } from '../helpers/assignments';
import { startFakeIdentityManager, type FakeIdentityManager } from '../helpers/fakeIdentityManager';
import { tempDir } from '../helpers/files';
import { failureOf } from '../helpers/serviceNowErrors';

const dir = tempDir('transition-limits-test-');

/**
 * An order at every limit the order schema enforces, checked by the schema itself, and the final transition
 * the workflow would record for it (with close notes and a reason as long as the stores keep).
 */
function transitionAtLimits(): AssignmentTransition {
  const input = parseProvisioningInput({
    connection: `C${'c'.repeat(MAX_CONNECTION_LENGTH - 1)}`,
    order: {
      AssignedResourceTypeId: 'A'.repeat(MAX_ID_LENGTH),
      ChangeType: 'Added',
      Owner: { Id: 'O'.repeat(MAX_ID_LENGTH) },
      ResourceType: { Identifier: 'R'.repeat(MAX_ID_LENGTH) },
    },
  });
  return {
    orderId: 'o'.repeat(MAX_ORDER_ID_LENGTH),
    assignmentId: input.order.AssignedResourceTypeId,
    connection: input.connection,
    resourceType: input.order.ResourceType.Identifier,
    changeType: input.order.ChangeType,
    state: 'Executed',
    ticket: { ...TEST_TICKET, state: 'S'.repeat(MAX_FIELD_LENGTH) },
    detail: {
      closeCode: 'c'.repeat(MAX_FIELD_LENGTH),
      closeNotes: 'n'.repeat(MAX_NOTES_LENGTH),
      closedBy: 'b'.repeat(MAX_FIELD_LENGTH),
      closedAt: '2024-05-01 12:00:00',
      reason: 'r'.repeat(MAX_NOTES_LENGTH),
    },
    at: '2024-05-01T12:00:00.000Z',
  };
}

/** Each limit exceeded by one character, with the field the stores must name. */
const overLimits: readonly [string, Partial<AssignmentTransition>][] = [
  ['orderId', { orderId: 'o'.repeat(MAX_ORDER_ID_LENGTH + 1) }],
  ['assignmentId', { assignmentId: 'A'.repeat(MAX_ID_LENGTH + 1) }],
  // Orders of the first release may still carry connections of up to 200 characters.
  ['connection', { connection: 'C'.repeat(MAX_ID_LENGTH + 1) }],
  ['resourceType', { resourceType: 'R'.repeat(MAX_ID_LENGTH + 1) }],
];

describe('transition limits: the assignment ledger', () => {
  test('a transition at the order schema limits (200-character resource type, 64-character connection) is recorded whole', async (t) => {
    const ledger = openLedger(path.join(dir, 'at-limits.sqlite'));
    t.after(() => ledger.close());
    const step = transitionAtLimits();
    assert.deepEqual(await ledger.record(step), { applied: true });
    assert.deepEqual(await ledger.history(step.orderId), [step]);
    const [view] = await ledger.list();
    assert.equal(view?.resourceType, step.resourceType);
    assert.equal(view.connection, step.connection);
    assert.deepEqual(view.detail, step.detail);
  });

  test('one character over a limit is refused, naming the field; longer notes are clipped', async (t) => {
    const ledger = openLedger(path.join(dir, 'over-limits.sqlite'));
    t.after(() => ledger.close());
    for (const [field, overrides] of overLimits) {
      const error = await failureOf(LedgerError, () =>
        ledger.record({ ...transitionAtLimits(), ...overrides }),
      );
      assert.equal(error.kind, 'invalid-input');
      assert.match(error.message, new RegExp(`transition\\.${field}: must be at most`));
    }
    const step = transitionAtLimits();
    const notes = `${'n'.repeat(MAX_NOTES_LENGTH)}and more`;
    await ledger.record({ ...step, detail: { ...step.detail, closeNotes: notes, reason: notes } });
    const [recorded] = await ledger.history(step.orderId);
    assert.equal(recorded?.detail?.closeNotes?.length, MAX_NOTES_LENGTH);
    assert.ok(recorded.detail.closeNotes.endsWith('…'));
    assert.equal(recorded.detail.reason?.length, MAX_NOTES_LENGTH);
  });
});

describe('transition limits: the HTTP store', () => {
  let started: { im: FakeIdentityManager; store: AssignmentStore } | undefined;
  before(async () => {
    const im = await startFakeIdentityManager();
    const store = createHttpAssignmentStore({
      urlTemplate: `${im.url}/api/assignments/{assignmentId}/orders/{orderId}?connection={connection}`,
      retryDelayMs: 1,
    });
    started = { im, store };
  });
  after(async () => {
    await started?.store.close();
    await started?.im.close();
  });
  const fixture = () => {
    assert.ok(started !== undefined, 'started by before()');
    return started;
  };

  test('a transition at the order schema limits (200-character resource type, 64-character connection) is sent whole', async () => {
    const { im, store } = fixture();
    const step = transitionAtLimits();
    assert.deepEqual(await store.record(step), { applied: true });
    const body = im.received.at(-1)?.body as Record<string, unknown>;
    assert.equal(body.orderId, step.orderId);
    assert.equal(body.assignmentId, step.assignmentId);
    assert.equal(body.resourceType, step.resourceType);
    assert.equal(body.connection, step.connection);
    assert.deepEqual(body.ticket, step.ticket);
    assert.deepEqual(body.detail, step.detail);
  });

  test('one character over a limit is refused before sending, naming the field', async () => {
    const { im, store } = fixture();
    const calls = im.requests.length;
    for (const [field, overrides] of overLimits) {
      const error = await failureOf(IdentityManagerError, () =>
        store.record({ ...transitionAtLimits(), ...overrides }),
      );
      assert.equal(error.kind, 'invalid-request');
      assert.match(error.message, new RegExp(`transition\\.${field}: must be at most`));
    }
    assert.equal(im.requests.length, calls);
  });
});
