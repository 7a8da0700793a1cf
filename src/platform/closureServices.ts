import type { SettingsFile } from '../config/schema';
import type { TemporalTarget } from '../config/temporalConnection';
import { connectTemporal, type TemporalSession } from '../client/session';
import { startPushReceiver, type PushReceiverHandle } from '../push/receiver';
import { ordersDataConverter } from './encryption';
import type { ConnectorMetrics } from './metrics';

export interface ClosureServices {
  /** The push receiver's endpoint, when it runs. */
  readonly pushUrl: string | undefined;
  close(): Promise<void>;
}

/**
 * What the worker process runs beside its workers to learn of closed tickets early: the push receiver
 * (TicketConnector.Push). Its client is lazy, so that a Temporal restart only delays signals; it encodes like the
 * workers, since a signal's payload is sealed with the orders'.
 */
export async function startClosureServices(
  settings: SettingsFile,
  target: TemporalTarget,
  metrics?: ConnectorMetrics,
): Promise<ClosureServices> {
  const push = settings.TicketConnector.Push;
  if (push.Enabled !== true) return { pushUrl: undefined, close: async () => undefined };
  const session: TemporalSession = await connectTemporal(target, {
    lazy: true,
    dataConverter: ordersDataConverter(settings.TicketConnector.Encryption),
  });
  let receiver: PushReceiverHandle;
  try {
    receiver = await startPushReceiver({
      settings: push,
      client: session.client,
      namespace: target.namespace,
      ...(metrics === undefined ? {} : { metrics }),
    });
  } catch (error) {
    await session.close();
    throw error;
  }
  return {
    pushUrl: receiver.url,
    async close() {
      await receiver.close();
      await session.close();
    },
  };
}
