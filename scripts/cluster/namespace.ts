import { Client, isGrpcServiceError, type Connection } from '@temporalio/client';
import { registerSearchAttributes } from '../../src/platform/registerSearchAttributes';
import { msToTs } from '@temporalio/common/lib/time';
import { until } from '../chaos/timing';

/** As deploy/temporal/register.sh gives the compose namespace. */
const RETENTION = '7 days';
const READY_TIMEOUT_MS = 120_000;
const ALREADY_EXISTS = 6;
const READINESS_QUEUE = 'cluster-readiness';

/**
 * What deploy/temporal/register.sh does for the compose topology, through the SDK: the namespace (a SQL-backed
 * server has none until one is registered) and the connector's search attributes. Each step is retried until it
 * succeeds, since the roles join the ring and the frontend's namespace cache fills a few seconds after start.
 */
export async function registerNamespace(connection: Connection, namespace: string): Promise<void> {
  await until(
    `namespace ${namespace} to be registered`,
    async () => {
      try {
        await connection.workflowService.registerNamespace({
          namespace,
          workflowExecutionRetentionPeriod: msToTs(RETENTION),
        });
      } catch (error) {
        const code: number | undefined = isGrpcServiceError(error) ? error.code : undefined;
        if (code !== ALREADY_EXISTS) throw error;
      }
      return true;
    },
    { timeoutMs: READY_TIMEOUT_MS, intervalMs: 500 },
  );
  await until(
    `the search attributes of namespace ${namespace}`,
    async () => {
      await registerSearchAttributes(connection, namespace);
      return true;
    },
    { timeoutMs: READY_TIMEOUT_MS, intervalMs: 500 },
  );
}

/**
 * Waits until a workflow can be started and terminated: proves that the frontend reaches a history process that
 * owns the shard, which listening ports alone do not. The probe workflow has its own id, type and task queue,
 * so that nothing of the connector's mistakes it for an order.
 */
export async function waitUntilServing(connection: Connection, namespace: string): Promise<void> {
  const client = new Client({ connection, namespace });
  let attempt = 0;
  await until(
    'the cluster to start a workflow',
    async () => {
      attempt += 1;
      const handle = await client.workflow.start('ClusterReadinessProbe', {
        taskQueue: READINESS_QUEUE,
        workflowId: `cluster-readiness-${process.pid}-${attempt}`,
        workflowRunTimeout: '1 minute',
      });
      await handle.terminate('readiness probe');
      return true;
    },
    { timeoutMs: READY_TIMEOUT_MS, intervalMs: 1_000 },
  );
}
