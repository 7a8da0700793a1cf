import type { Client } from '@temporalio/client';
import { benchOrder, startOrders } from './orders';
import { inParallel, round, waitForCount } from './measure';
import { HOURLY_POLLING } from './settings';
import type { BenchStack } from './stack';

export interface ThroughputSizes {
  readonly orders: number;
  readonly concurrency: number;
  /** Bounds each of the two runs, starts included. */
  readonly timeoutMs: number;
}

export interface Rate {
  /** Started before the part's deadline; `done` of them finished before it. */
  readonly started: number;
  readonly done: number;
  readonly seconds: number;
  readonly perSecond: number;
  /** How long the starts alone took: the client's share of the time. */
  readonly startSeconds: number;
  readonly timedOut: boolean;
}

export interface ThroughputFigures {
  /** Start → the order's Transmitted state in the ledger (its ticket created). */
  readonly provisioning: Rate;
  /** Start → completed, for a workflow of one no-op activity given the same order. */
  readonly bare: Rate;
  /** provisioning / bare; the goal is at least 0.8. */
  readonly ratio: number;
}

/**
 * Orders per second from start to "ticket created" (Transmitted recorded in the assignment ledger, which is
 * what Identity Manager sees), then the same server's rate for the bare one-activity workflow, one worker
 * process at a time. Both are observed by polling (every 200 ms) a count: the ledger's, and the server's count
 * of completed bare workflows.
 */
export async function measureThroughput(
  stack: BenchStack,
  sizes: ThroughputSizes,
  maxCachedWorkflows: number,
): Promise<ThroughputFigures> {
  // No status check within the run: the rate is that of opening tickets only.
  const part = await stack.startConnectorPart('throughput', { polling: HOURLY_POLLING, maxCachedWorkflows });
  let provisioning: Rate;
  try {
    stack.say(`throughput: starting ${sizes.orders} orders...`);
    provisioning = await timedRun(
      async (deadline) =>
        (
          await startOrders(stack.client, 'throughput', part.taskQueue, sizes.orders, {
            concurrency: sizes.concurrency,
            deadline,
          })
        ).length,
      () => part.ledger.count('Transmitted'),
      sizes,
    );
  } finally {
    await part.stop();
  }
  stack.say(`throughput: provisioning ${provisioning.perSecond} orders/s; now the bare workflow...`);

  const bare = await stack.startBareWorker('bare');
  let bareRate: Rate;
  try {
    const query = `TaskQueue = "${bare.taskQueue}" AND ExecutionStatus = "Completed"`;
    bareRate = await timedRun(
      (deadline) => startBare(stack.client, bare.taskQueue, sizes, deadline),
      async () => (await stack.client.workflow.count(query)).count,
      sizes,
    );
  } finally {
    await bare.worker.stop();
  }
  stack.say(`throughput: bare ${bareRate.perSecond} workflows/s`);
  return {
    provisioning,
    bare: bareRate,
    ratio: round(provisioning.perSecond / bareRate.perSecond, 2),
  };
}

/** Starts, then waits for the count of finished ones to reach the number started; both within `timeoutMs`. */
async function timedRun(
  start: (deadline: number) => Promise<number>,
  done: () => number | Promise<number>,
  sizes: ThroughputSizes,
): Promise<Rate> {
  const startedAt = Date.now();
  const deadline = startedAt + sizes.timeoutMs;
  const started = await start(deadline);
  const startSeconds = (Date.now() - startedAt) / 1000;
  const finished = await waitForCount(done, started, { timeoutMs: Math.max(0, deadline - Date.now()) });
  const seconds = (finished.at - startedAt) / 1000;
  return {
    started,
    done: finished.reached,
    seconds: round(seconds),
    perSecond: round(finished.reached / seconds),
    startSeconds: round(startSeconds),
    timedOut: finished.timedOut || started < sizes.orders,
  };
}

function startBare(
  client: Client,
  taskQueue: string,
  sizes: ThroughputSizes,
  deadline: number,
): Promise<number> {
  return inParallel(
    sizes.orders,
    sizes.concurrency,
    async (n) => {
      await client.workflow.start('benchBareWorkflow', {
        taskQueue,
        workflowId: `bench-bare-${n}`,
        args: [benchOrder('bare', n)],
      });
    },
    deadline,
  );
}
