import { InvalidArgumentError, type Command } from 'commander';
import { runSelfCheck } from '../client/selfCheck';
import { loadCliConfig } from './loadCliConfig';
import { withTemporal } from './temporalClient';

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
      const { settings } = await loadCliConfig(command);
      await withTemporal(settings, async ({ client, target }) => {
        const result = await runSelfCheck(client, {
          taskQueue: target.taskQueue,
          timeoutSeconds: options.timeout,
        });
        console.log(JSON.stringify(result, null, 2));
      });
    });
}
