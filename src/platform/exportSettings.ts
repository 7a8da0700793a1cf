/**
 * Turns the settings file's `TicketConnector.Exports.<Connection>` into what the export needs: folders resolved
 * against DataDirectory, the cookie folder's fallbacks applied, filters split by table. Settings depend on the
 * export's definitions (tables, fields, filters), never the other way round.
 */
import path from 'node:path';
import { isIdentityTable, splitFilterSetting } from '../export/fields';
import type { ResolvedExportSettings } from '../export/plan';
import type { IdentityTable } from '../contract/export';
import { UnknownConnectionError } from '../servicenow/connection';
import { defaultExportSettings, type SettingsFile } from '../config/schema';

export function resolveExportSettings(settings: SettingsFile, connectionId: string): ResolvedExportSettings {
  const connection = settings.Connections[connectionId];
  if (connection === undefined || !Object.hasOwn(settings.Connections, connectionId)) {
    throw new UnknownConnectionError(connectionId, Object.keys(settings.Connections));
  }
  const dataDirectory = path.resolve(settings.TicketConnector.DataDirectory);
  const exports = Object.hasOwn(settings.TicketConnector.Exports, connectionId)
    ? settings.TicketConnector.Exports[connectionId]
    : undefined;
  const configured = exports ?? defaultExportSettings();
  const cookieDirectory = configured.CookieDirectory ?? connection.TicketCookieDirectoryPath;
  const filters: Partial<Record<IdentityTable, string>> = {};
  for (const setting of configured.Filters) {
    const split = splitFilterSetting(setting);
    // The settings schema has checked every filter; this only narrows the types.
    if (split !== undefined && isIdentityTable(split.table)) filters[split.table] = split.query;
  }
  return {
    dataDirectory,
    outputDirectory: path.resolve(dataDirectory, configured.OutputDirectory),
    cookieDirectory:
      cookieDirectory === undefined
        ? path.join(dataDirectory, 'cookies')
        : path.resolve(dataDirectory, cookieDirectory),
    tables: configured.Tables,
    fields: configured.Fields,
    filters,
    overlapMs: configured.Overlap,
    complete: configured.Complete,
    neutralizeFormulas: configured.NeutralizeFormulas,
  };
}
