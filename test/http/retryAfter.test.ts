import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseRetryAfter } from '../../src/http/retryAfter';

describe('Retry-After parsing', () => {
  test('ignores what is neither delta-seconds nor an HTTP date, and caps the delay at a day', () => {
    const now = new Date('2024-05-01T10:00:00Z');
    assert.equal(parseRetryAfter('1.5', now), undefined);
    assert.equal(parseRetryAfter('5, 6', now), undefined);
    assert.equal(parseRetryAfter('99999999999', now), 24 * 60 * 60 * 1000);
  });

  test('reads delta-seconds and HTTP dates', () => {
    const now = new Date('2024-05-01T10:00:00Z');
    assert.equal(parseRetryAfter('120', now), 120_000);
    assert.equal(parseRetryAfter('Wed, 01 May 2024 10:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter(undefined, now), undefined);
  });
});
