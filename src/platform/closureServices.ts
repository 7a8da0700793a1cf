import type { SettingsFile } from '../config/schema';
import type { TemporalTarget } from '../config/temporalConnection';
import { connectTemporal } from '../client/session';
import { ensureTicketSweeps, type TicketSweeps } from '../client/sweeps';
import { startPushReceiver, type PushReceiverHandle } from '../push/receiver';
import { ordersDataConverter } from './encryption';
import type { ConnectorMetrics } from './metrics';

export interface ClosureServices {
  /** The push receiver's endpoint, when it runs. */
  readonly pushUrl: string | undefined;
  /** The sweep workflows running, one per connection with ticket mappings. */
  readonly sweeps: TicketSweeps;
  close(): Promise<void>;
}

/**
 * What the worker process runs beside its workers to learn of closed tickets early: the push receiver
 * (TicketConnector.Push) and, once per connection whatever the number of workers, the sweep workflow
 * (TicketConnector.Sweep). The client is lazy, so that a Temporal restart only delays signals; it encodes like
 * the workers, since a signal's payload is sealed with the orders'.
 */
export async function startClosureServices(
  settings: SettingsFile,
  target: TemporalTarget,
  metrics?: ConnectorMetrics,
): Promise<ClosureServices> {
  const session = await connectTemporal(target, {
    lazy: true,
    dataConverter: ordersDataConverter(settings.TicketConnector.Encryption),
  });
  let receiver: PushReceiverHandle | undefined;
  try {
    const sweeps = await ensureTicketSweeps(session.client, settings, target.taskQueue);
    const push = settings.TicketConnector.Push;
    receiver =
      push.Enabled === true
        ? await startPushReceiver({
            settings: push,
            client: session.client,
            namespace: target.namespace,
            ...(metrics === undefined ? {} : { metrics }),
          })
        : undefined;
    return {
      pushUrl: receiver?.url,
      sweeps,
      async close() {
        await receiver?.close();
        await session.close();
      },
    };
  } catch (error) {
    await session.close();
    throw error;
  }
}
