import path from 'node:path';
import type { SettingsFile } from '../config/schema';
import type { AssignmentStore } from '../assignments/store';
import { createHttpAssignmentStore, type HttpAssignmentStoreOptions } from '../assignments/httpStore';
import { openLedger, type LedgerOptions, type SqliteLedger } from '../assignments/sqliteLedger';
import type { LiveSettings } from '../credentials/refresh';

type HttpSettings = NonNullable<SettingsFile['TicketConnector']['Assignments']['Http']>;

/** `Assignments.LedgerFile`, relative to `DataDirectory` (itself relative to the working folder) unless absolute. */
export function resolveLedgerPath(settings: SettingsFile): string {
  const { DataDirectory, Assignments } = settings.TicketConnector;
  return path.resolve(DataDirectory, Assignments.LedgerFile);
}

export function httpStoreOptions(http: HttpSettings): HttpAssignmentStoreOptions {
  const oauth =
    http.OAuth2Url !== undefined && http.ClientId !== undefined && http.ClientSecret !== undefined
      ? { tokenUrl: http.OAuth2Url, clientId: http.ClientId, clientSecret: http.ClientSecret }
      : undefined;
  return {
    urlTemplate: http.UrlTemplate,
    method: http.Method,
    timeoutMs: http.Timeout,
    auth:
      oauth !== undefined
        ? { kind: 'oauth', ...oauth, ...(http.Scope !== undefined && { scope: http.Scope }) }
        : http.BearerToken !== undefined
          ? { kind: 'bearer', token: http.BearerToken }
          : { kind: 'none' },
  };
}

/**
 * The worker's store, as `TicketConnector.Assignments.Store` selects it. With `live` settings, Identity Manager's
 * credentials follow the credential stores: read again once after Identity Manager refuses them.
 */
export function createAssignmentStore(settings: SettingsFile, live?: LiveSettings): AssignmentStore {
  const assignments = settings.TicketConnector.Assignments;
  if (assignments.Store === 'Ledger') return openLedger(resolveLedgerPath(settings));
  // The settings schema already requires Http with Store "Http"; this guards hand-built settings.
  if (assignments.Http === undefined) {
    throw new Error('TicketConnector.Assignments.Http is missing: Store "Http" needs Http.UrlTemplate');
  }
  const rereadAuth =
    live === undefined
      ? undefined
      : async () => {
          if (!(await live.reread())) return undefined;
          const http = live.current().TicketConnector.Assignments.Http;
          return http === undefined ? undefined : httpStoreOptions(http).auth;
        };
  return createHttpAssignmentStore({
    ...httpStoreOptions(assignments.Http),
    ...(rereadAuth === undefined ? {} : { rereadAuth }),
  });
}

/**
 * The ledger for tools that read it (the CLI), whichever store the worker writes to: with Store "Http" it
 * holds only what was recorded while the ledger was in use.
 */
export function openLedgerForSettings(settings: SettingsFile, options: LedgerOptions = {}): SqliteLedger {
  return openLedger(resolveLedgerPath(settings), options);
}
