import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_OUTCOMES } from '../../../src/config/schema';
import { decide } from '../../../src/workflows/provisioning/outcome';
import { checkDelay, reminderDueAt } from '../../../src/workflows/provisioning/schedule';
import type { ProvisioningPolicy } from '../../../src/contract/provisioning';

const policy = (table: 'incident' | 'sc_request', synchronisable = true): ProvisioningPolicy => ({
  table,
  synchronisable,
  outcomes: DEFAULT_OUTCOMES[table],
  polling: { firstCheckAfterMs: 60_000, maxIntervalMs: 3_600_000, backoffCoefficient: 2, jitter: 0.1 },
  reminders: {},
  deadline: { outcome: 'Errored', cancelTicket: true },
});

describe('ticket outcomes', () => {
  test('open tickets decide nothing, resolved incidents included', () => {
    assert.equal(decide({ found: true, state: '1', active: true }, policy('incident')), undefined);
    assert.equal(decide({ found: true, state: '6', active: true }, policy('incident')), undefined);
  });

  test('a catalog request with a stale request_state is judged by its state', () => {
    const stale = { found: true, state: '3', requestState: 'in_process', active: false };
    assert.equal(decide(stale, policy('sc_request'))?.provisioningState, 'Executed');
    const skipped = { found: true, state: '7', requestState: 'requested', active: false };
    assert.equal(decide(skipped, policy('sc_request'))?.provisioningState, 'Errored');
  });

  test('a closed ticket in an unmapped state ends Errored with the reason', () => {
    const decision = decide(
      { found: true, state: '9', stateLabel: 'Archived', active: false },
      policy('incident'),
    );
    assert.equal(decision?.provisioningState, 'Errored');
    assert.match(
      decision?.reason ?? '',
      /"Archived", which has no outcome under TicketConnector\.Outcomes\.incident/,
    );
  });

  test('state values are looked up as own keys only', () => {
    assert.equal(decide({ found: true, state: 'constructor', active: true }, policy('incident')), undefined);
  });

  test('Executed becomes Verified for resource types that are never synchronised', () => {
    const closed = { found: true, state: '7', active: false };
    assert.equal(decide(closed, policy('incident', false))?.provisioningState, 'Verified');
  });
});

describe('check schedule', () => {
  const polling = policy('incident').polling;
  test('grows by the coefficient up to the maximum, spread by the jitter', () => {
    assert.equal(checkDelay(polling, 0, 0.5), 60_000);
    assert.equal(checkDelay(polling, 1, 0.5), 120_000);
    assert.equal(checkDelay(polling, 20, 0.5), 3_600_000);
    assert.equal(checkDelay(polling, 0, 0), 54_000);
    assert.equal(checkDelay(polling, 0, 1), 66_000);
  });

  test('reminders come first after FirstAfter, then every Every', () => {
    const reminders = { firstAfterMs: 1_000, everyMs: 500 };
    assert.deepEqual(
      [0, 1, 2].map((sent) => reminderDueAt(reminders, 10_000, sent)),
      [11_000, 11_500, 12_000],
    );
    assert.equal(reminderDueAt({ firstAfterMs: 1_000 }, 0, 1), undefined);
    assert.equal(reminderDueAt({}, 0, 0), undefined);
  });
});
