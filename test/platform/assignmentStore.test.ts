import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import {
  createAssignmentStore,
  httpStoreOptions,
  openLedgerForSettings,
  resolveLedgerPath,
} from '../../src/platform/assignmentStore';
import { SqliteLedger } from '../../src/assignments/sqliteLedger';
import { settingsFileSchema, type SettingsFile } from '../../src/config/schema';
import { tempDir } from '../helpers/files';

const dir = tempDir('assignment-store-test-');

function settings(assignments: unknown, dataDirectory = dir): SettingsFile {
  return settingsFileSchema.parse({
    TicketConnector: { DataDirectory: dataDirectory, Assignments: assignments },
  });
}

describe('assignment store from settings', () => {
  test('the ledger file is relative to DataDirectory, itself relative to the working folder', () => {
    assert.equal(resolveLedgerPath(settings({})), path.join(dir, 'assignments.sqlite'));
    assert.equal(
      resolveLedgerPath(settings({ LedgerFile: 'ledgers/im.sqlite' }, 'state')),
      path.resolve('state', 'ledgers', 'im.sqlite'),
    );
    const absolute = path.join(dir, 'elsewhere', 'ledger.sqlite');
    assert.equal(resolveLedgerPath(settings({ LedgerFile: absolute }, 'state')), absolute);
  });

  test('Store "Ledger" (the default) opens the ledger file, which the CLI then reads', async () => {
    const file = path.join(dir, 'worker', 'assignments.sqlite');
    const config = settings({ LedgerFile: file });
    const store = createAssignmentStore(config);
    assert.ok(store instanceof SqliteLedger);
    assert.ok(existsSync(file));
    await store.record({
      orderId: 'o-1',
      assignmentId: '42',
      connection: 'Main',
      resourceType: 'R',
      changeType: 'Added',
      state: 'Transmitted',
      at: '2024-05-01T10:00:00.000Z',
    });
    const reader = openLedgerForSettings(config);
    assert.deepEqual(
      (await reader.list()).map((view) => view.orderId),
      ['o-1'],
    );
    await reader.close();
    await store.close();
  });

  test('Store "Http" maps the settings to the HTTP store options', async () => {
    const urlTemplate = 'https://im.example.com/api/assignments/{assignmentId}/state';
    const bearer = settings({
      Store: 'Http',
      Http: { UrlTemplate: urlTemplate, BearerToken: 'tok', Timeout: '10s' },
    });
    assert.deepEqual(httpStoreOptions(bearer.TicketConnector.Assignments.Http!), {
      urlTemplate,
      method: 'POST',
      timeoutMs: 10_000,
      auth: { kind: 'bearer', token: 'tok' },
    });
    const oauth = settings({
      Store: 'Http',
      Http: {
        UrlTemplate: urlTemplate,
        Method: 'PATCH',
        OAuth2Url: 'https://im.example.com/connect/token',
        ClientId: 'id',
        ClientSecret: 'secret',
        Scope: '',
      },
    });
    assert.deepEqual(httpStoreOptions(oauth.TicketConnector.Assignments.Http!).auth, {
      kind: 'oauth',
      tokenUrl: 'https://im.example.com/connect/token',
      clientId: 'id',
      clientSecret: 'secret',
    });
    const store = createAssignmentStore(oauth);
    assert.ok(!(store instanceof SqliteLedger));
    await store.close();
  });
});
