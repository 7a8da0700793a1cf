import { Context } from '@temporalio/activity';

/** Well inside the heartbeat timeout the workflow gives these activities (see activityStubs.ts). */
const HEARTBEAT_EVERY_MS = 5_000;

/**
 * Runs an activity body that talks to a peer while telling Temporal, every few seconds, that this worker is
 * alive. If the worker dies, the attempt times out on its heartbeat (seconds) instead of its start-to-close
 * timeout (minutes), and another worker retries it. The body gets the activity's cancellation signal, so a call
 * abandoned by Temporal (heartbeat lost, workflow canceled) is aborted rather than left running.
 */
export async function heartbeating<T>(body: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const context = Context.current();
  context.heartbeat();
  const timer = setInterval(() => context.heartbeat(), HEARTBEAT_EVERY_MS);
  try {
    return await body(context.cancellationSignal);
  } finally {
    clearInterval(timer);
  }
}
