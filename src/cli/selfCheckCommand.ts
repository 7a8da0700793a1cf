import { Client, Connection } from '@temporalio/client';
import { InvalidArgumentError, type Command } from 'commander';
import { resolveTemporalTarget } from '../config/temporalConnection';
import { SELF_CHECK_WORKFLOW_TYPE } from '../contract/names';
import type { selfCheckWorkflow } from '../workflows';
import { loadCliConfig } from './loadCliConfig';

function parseSeconds(value: string): number {
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds <= 0)
    throw new InvalidArgumentError('expected a whole number of seconds');
  return seconds;
}

export function registerSelfCheckCommand(program: Command): void {
  program
    .command('self-check')
    .description('run a workflow and an activity through the worker to prove the stack works')
    .option('--timeout <seconds>', 'give up after this many seconds', parseSeconds, 30)
    .action(async (options: { timeout: number }, command: Command) => {
      const { settings } = loadCliConfig(command);
      const target = resolveTemporalTarget(settings);
      const connection = await Connection.connect(target.connectionOptions);
      try {
        const client = new Client({ connection, namespace: target.namespace });
        const result = await client.workflow.execute<typeof selfCheckWorkflow>(SELF_CHECK_WORKFLOW_TYPE, {
          taskQueue: target.taskQueue,
          workflowId: `self-check-${Date.now()}`,
          workflowExecutionTimeout: `${options.timeout}s`,
        });
        console.log(JSON.stringify(result, null, 2));
      } finally {
        await connection.close();
      }
    });
}
