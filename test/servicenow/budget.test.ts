/** The call budget on a clock the test moves by hand: which calls go, in which order, and what is reported. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CallBudget,
  RateLimitedError,
  type BudgetClock,
  type CallBudgetOptions,
  type CallPriority,
} from '../../src/servicenow/budget';
import { rateLimitOf } from '../../src/servicenow/budgetRateLimit';
import { noMetrics, type ConnectorMetrics } from '../../src/platform/metrics';

/** Timers fire only when the test moves the clock past them. */
class HandClock implements BudgetClock {
  private current = 1_700_000_000_000;
  private timers: { at: number; wake: () => void }[] = [];

  readonly now = (): number => this.current;

  schedule(ms: number, wake: () => void): () => void {
    const timer = { at: this.current + ms, wake };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((other) => other !== timer);
    };
  }

  /** Moves time forward, firing due timers in order and letting the promises they settle run. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      const due = this.timers.filter((timer) => timer.at <= target).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      this.timers = this.timers.filter((timer) => timer !== due);
      this.current = due.at;
      due.wake();
      await settle();
    }
    this.current = target;
    await settle();
  }
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

const canceled = () => new Error('canceled');

interface Recorded {
  readonly waits: { connection: string; reason: string; ms: number }[];
  readonly metrics: ConnectorMetrics;
}

function recording(): Recorded {
  const waits: Recorded['waits'] = [];
  return {
    waits,
    metrics: { ...noMetrics, budgetWait: (connection, reason, ms) => waits.push({ connection, reason, ms }) },
  };
}

function setup(options: Partial<CallBudgetOptions> = {}) {
  const clock = new HandClock();
  const recorded = recording();
  const budget = new CallBudget({ connection: 'Main', clock, metrics: recorded.metrics, ...options });
  const done: string[] = [];
  /** Starts a call; its name is pushed to `done` once it may go. */
  const call = (name: string, priority: CallPriority = 'normal', signal?: AbortSignal) => {
    const admitted = budget.acquire(priority, signal, canceled).then(() => {
      done.push(name);
    });
    return admitted;
  };
  return { clock, budget, done, call, waits: recorded.waits };
}

describe('call budget', () => {
  test('calls beyond the per-second share wait for the bucket to refill', async () => {
    const { clock, done, call, waits } = setup({ share: { callsPerSecond: 2, callsPerHour: 1000 } });
    void call('a');
    void call('b');
    void call('c');
    void call('d');
    await settle();
    assert.deepEqual(done, ['a', 'b']);
    await clock.advance(499);
    assert.deepEqual(done, ['a', 'b'], 'half a token is not a token');
    await clock.advance(1);
    assert.deepEqual(done, ['a', 'b', 'c']);
    await clock.advance(500);
    assert.deepEqual(done, ['a', 'b', 'c', 'd']);
    assert.deepEqual(waits, [
      { connection: 'Main', reason: 'budget', ms: 500 },
      { connection: 'Main', reason: 'budget', ms: 1000 },
    ]);
  });

  test('calls beyond the hourly share wait for it to refill, however many seconds pass', async () => {
    const { clock, done, call } = setup({ share: { callsPerSecond: 100, callsPerHour: 3 } });
    for (const name of ['a', 'b', 'c', 'd']) void call(name);
    await clock.advance(1000);
    assert.deepEqual(done, ['a', 'b', 'c']);
    // Three calls an hour: one token every 20 minutes.
    await clock.advance(20 * 60_000 - 1001);
    assert.deepEqual(done, ['a', 'b', 'c']);
    await clock.advance(1);
    assert.deepEqual(done, ['a', 'b', 'c', 'd']);
  });

  test('when tokens are scarce, urgent calls go first, then normal ones, then background ones', async () => {
    const { clock, done, call } = setup({ share: { callsPerSecond: 1, callsPerHour: 1000 } });
    void call('first');
    void call('background', 'background');
    void call('normal', 'normal');
    void call('urgent 1', 'urgent');
    void call('urgent 2', 'urgent');
    await settle();
    assert.deepEqual(done, ['first']);
    await clock.advance(3000);
    assert.deepEqual(done, ['first', 'urgent 1', 'urgent 2', 'normal']);
    await clock.advance(1000);
    assert.deepEqual(done, ['first', 'urgent 1', 'urgent 2', 'normal', 'background']);
  });

  test('background calls leave the last tenth of the hourly share to the others', async () => {
    const { clock, done, call } = setup({ share: { callsPerSecond: 100, callsPerHour: 20 } });
    for (let index = 0; index < 20; index++) void call(`background ${index}`, 'background');
    await clock.advance(1000);
    // 20 an hour, 2 kept back: 18 background calls go (and a few more tokens refilled meanwhile do not count).
    assert.equal(done.length, 18);
    void call('urgent', 'urgent');
    void call('normal');
    await settle();
    assert.deepEqual(done.slice(18), ['urgent', 'normal'], 'the reserve is there for them');
    // The next background call waits until the bucket holds the reserve and one more token again.
    await clock.advance(3 * 180_000 - 1001);
    assert.equal(done.length, 20);
    await clock.advance(1);
    assert.equal(done.length, 21);
  });

  test('a 429 pause holds every call of the connection, and the wait is reported as rate-limited', async () => {
    const { clock, budget, done, call, waits } = setup();
    const pause = budget.rateLimited({ delayMs: 5000, rule: 'r1', limit: 100 });
    assert.equal(budget.mayWait(pause), true);
    void call('a', 'urgent');
    void call('b');
    await clock.advance(4999);
    assert.deepEqual(done, []);
    await clock.advance(1);
    assert.deepEqual(done, ['a', 'b']);
    assert.deepEqual(
      waits.map((wait) => [wait.reason, wait.ms]),
      [
        ['rate-limited', 5000],
        ['rate-limited', 5000],
      ],
    );
  });

  test('a pause longer than a call may wait fails the waiting calls and the new ones at once', async () => {
    const { budget, call } = setup({ maxPauseMs: 10_000 });
    budget.rateLimited({ delayMs: 2000 });
    const waiting = call('waiting');
    const pause = budget.rateLimited({ delayMs: 3_600_000, rule: 'r1', limit: 100 });
    assert.equal(budget.mayWait(pause), false);
    await assert.rejects(waiting, (error: unknown) => {
      assert.ok(error instanceof RateLimitedError);
      assert.equal(error.retryAfterMs, 3_600_000);
      return true;
    });
    await assert.rejects(call('later'), (error: unknown) => {
      assert.ok(error instanceof RateLimitedError);
      assert.equal(error.pause.rule, 'r1');
      return true;
    });
  });

  test('a bare 429 backs off 1 s, 2 s, 4 s... and starts over after an answer', () => {
    const { budget } = setup();
    assert.equal(budget.rateLimited({}).delayMs, 1000);
    assert.equal(budget.rateLimited({}).delayMs, 2000);
    assert.equal(budget.rateLimited({}).delayMs, 4000);
    budget.answered();
    assert.equal(budget.rateLimited({}).delayMs, 1000);
  });

  test('an aborted wait fails with the caller’s error and lets the next call go', async () => {
    const { clock, done, call } = setup({ share: { callsPerSecond: 1, callsPerHour: 1000 } });
    void call('first');
    const controller = new AbortController();
    const aborted = call('aborted', 'urgent', controller.signal);
    void call('next');
    await settle();
    controller.abort();
    await assert.rejects(aborted, /canceled/);
    await clock.advance(1000);
    assert.deepEqual(done, ['first', 'next']);
  });

  test('without a share only 429 pauses hold calls', async () => {
    const { done, call } = setup();
    for (let index = 0; index < 1000; index++) void call(String(index), 'background');
    await settle();
    assert.equal(done.length, 1000);
  });
});

describe('rate-limit headers', () => {
  const now = new Date('2024-05-01T10:59:30Z');

  test('Retry-After first, in seconds or as a date', () => {
    assert.equal(rateLimitOf({ 'retry-after': '7', 'x-ratelimit-reset': '1714561200' }, now).delayMs, 7000);
    assert.equal(rateLimitOf({ 'retry-after': 'Wed, 01 May 2024 10:59:40 GMT' }, now).delayMs, 10_000);
  });

  test('else X-RateLimit-Reset in epoch seconds; the rule and its limit are kept for the operator', () => {
    assert.deepEqual(
      rateLimitOf(
        {
          'x-ratelimit-reset': String(Date.parse('2024-05-01T11:00:00Z') / 1000),
          'x-ratelimit-limit': '5000',
          'x-ratelimit-rule': '5f4a1e2bc0a8010e00a1b2c3d4e5f601',
        },
        now,
      ),
      { delayMs: 30_000, limit: 5000, rule: '5f4a1e2bc0a8010e00a1b2c3d4e5f601' },
    );
  });

  test('a bare 429 says nothing: the budget backs off on its own', () => {
    assert.deepEqual(rateLimitOf({ 'x-ratelimit-reset': 'soon', 'x-ratelimit-limit': 'many' }, now), {});
  });
});
