import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { toActivityFailure } from '../../src/activities/failures';
import { MAX_FIELD_LENGTH, MAX_MESSAGE_LENGTH } from '../../src/contract/limits';
import { ServiceNowError } from '../../src/servicenow/errors';

const HUGE = 'x'.repeat(3 * 1024 * 1024);

describe('failures leaving activities are bounded', () => {
  test('a 3 MB message from ServiceNow is capped in the failure and its details', () => {
    const failure = toActivityFailure(
      new ServiceNowError({
        kind: 'http',
        operation: 'create',
        table: 'incident',
        status: 400,
        serviceNowMessage: HUGE,
        detail: HUGE,
      }),
    );
    assert.ok(
      failure.message.length < 3 * MAX_MESSAGE_LENGTH,
      `message is ${failure.message.length} characters`,
    );
    const [details] = (failure.details ?? []) as { serviceNowMessage?: string; detail?: string }[];
    assert.ok((details?.serviceNowMessage?.length ?? 0) <= MAX_MESSAGE_LENGTH);
    assert.ok((details?.detail?.length ?? 0) <= MAX_MESSAGE_LENGTH);
    assert.equal(failure.nonRetryable, true);
  });

  test('a 3 MB record number read from an answer is capped in the message and the details', () => {
    const failure = toActivityFailure(
      new ServiceNowError({ kind: 'mismatch', operation: 'find', table: 'incident', record: HUGE }),
    );
    assert.ok(
      failure.message.length <= MAX_MESSAGE_LENGTH,
      `message is ${failure.message.length} characters`,
    );
    const [details] = (failure.details ?? []) as { record?: string }[];
    assert.ok((details?.record?.length ?? 0) <= MAX_FIELD_LENGTH, `record is ${details?.record?.length}`);
  });

  test('unknown and classified errors keep a capped message', () => {
    const unknown = toActivityFailure(new Error(HUGE));
    assert.equal(unknown.type, 'UnexpectedError');
    assert.ok(unknown.message.length <= MAX_MESSAGE_LENGTH);
    const classified = Object.assign(new Error(HUGE), { name: 'IdentityManagerError', retryable: false });
    assert.ok(toActivityFailure(classified).message.length <= MAX_MESSAGE_LENGTH);
  });
});

describe('failures that must not end the order', () => {
  test('a ServiceNow request canceled by a worker shutting down is retried on another worker, not failed', () => {
    const failure = toActivityFailure(
      new ServiceNowError({
        kind: 'canceled',
        operation: 'list',
        table: 'incident',
        reason: 'the request was canceled',
      }),
    );
    assert.equal(failure.type, 'ServiceNow.canceled');
    assert.equal(failure.nonRetryable, false);
    const invalid = toActivityFailure(new ServiceNowError({ kind: 'invalid-request', operation: 'read' }));
    assert.equal(invalid.nonRetryable, true, 'a request that can never be sent still fails');
  });
});
