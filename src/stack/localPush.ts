import type { SettingsFile } from '../config/schema';
import type { NotifyOptions } from '../simulator/notifications';
import type { LocalEncryption } from './localEncryption';

/**
 * `npm start` closes orders the way a production deployment should: push first, with the sweep and the safety
 * poll behind it. The worker runs the push receiver (TicketConnector.Push) with the configured secret, else the
 * one generated into the data folder, and the simulator signs its change notifications with the same secret.
 * `Push.Enabled: false` keeps it off.
 */
export function withLocalPush(settings: SettingsFile, local: LocalEncryption): SettingsFile {
  const push = settings.TicketConnector.Push;
  if (push.Enabled === false || (push.Secret === undefined && local.pushSecret === undefined))
    return settings;
  return {
    ...settings,
    TicketConnector: {
      ...settings.TicketConnector,
      Push: { ...push, Enabled: true, Secret: push.Secret ?? local.pushSecret },
    },
  };
}

/** Where the local simulator posts its notifications: the worker's receiver, on loopback. */
export function localNotifyTarget(settings: SettingsFile): NotifyOptions | undefined {
  const push = settings.TicketConnector.Push;
  if (push.Enabled !== true || push.Secret === undefined) return undefined;
  // A receiver on all interfaces is reached on loopback too; the simulator never posts off the machine.
  const host = push.Host === '0.0.0.0' || push.Host === '::' ? '127.0.0.1' : push.Host;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return { url: `http://${hostPart}:${push.Port}${push.Path}`, secret: push.Secret };
}
