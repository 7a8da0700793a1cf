import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { duration } from '../../src/cli/cliOutput';
import { approximateDuration, elapsedDuration, formatDuration } from '../../src/contract/durations';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('durations as text', () => {
  test('formatDuration writes the largest whole unit, days included', () => {
    assert.equal(formatDuration(DAY), '1d');
    assert.equal(formatDuration(36 * HOUR), '36h');
    assert.equal(formatDuration(90 * MINUTE), '90m');
    assert.equal(formatDuration(90_000), '90s');
    assert.equal(formatDuration(1_500), '1500ms');
  });

  test('what formatDuration prints, the CLI parses back to the same milliseconds', () => {
    for (const ms of [1, 999, 1_500, 10_000, 90_000, MINUTE, 90 * MINUTE, HOUR, 36 * HOUR, DAY, 7 * DAY]) {
      assert.equal(duration(formatDuration(ms)), ms, formatDuration(ms));
    }
  });

  // Released workflow code writes these texts into ticket notes and failure reasons kept in histories.
  test('approximateDuration rounds to minutes, hours from 2 hours on, days from 2 days on', () => {
    assert.equal(approximateDuration(29_999), '0 minutes');
    assert.equal(approximateDuration(MINUTE), '1 minute');
    assert.equal(approximateDuration(119 * MINUTE), '119 minutes');
    assert.equal(approximateDuration(120 * MINUTE), '2 hours');
    assert.equal(approximateDuration(47 * HOUR + 29 * MINUTE), '47 hours');
    assert.equal(approximateDuration(47 * HOUR + 30 * MINUTE), '2 days');
    assert.equal(approximateDuration(10 * DAY), '10 days');
  });

  test('elapsedDuration reads like a stopwatch: tenths under 10 s, then seconds, minutes and hours', () => {
    assert.equal(elapsedDuration(4_200), '4.2 s');
    assert.equal(elapsedDuration(27_400), '27 s');
    assert.equal(elapsedDuration(4 * MINUTE + 5_000), '4m05s');
    assert.equal(elapsedDuration(HOUR + 2 * MINUTE + 3_000), '1h02m03s');
  });
});
