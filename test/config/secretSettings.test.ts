import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isSecretSetting } from '../../src/config/schema';

/** What `config check`, errors and `protect --secrets-only` treat as a secret, by setting path. */
describe('secret settings', () => {
  test('credentials, the push secret, the codec token and payload keys are secrets, whatever their case', () => {
    for (const path of [
      'Connections.Main.Password',
      'Connections.Main.ClientSecret',
      'TicketConnector.Assignments.Http.BearerToken',
      'TicketConnector.Push.Secret',
      'ticketconnector.push.secret',
      'TicketConnector.Encryption.CodecServer.Token',
      'TicketConnector.Encryption.Keys.key-1',
      'TicketConnector.Encryption.PasswordKeys.pw-1',
    ]) {
      assert.ok(isSecretSetting(path.split('.')), path);
    }
  });

  test('identifiers and ordinary values are not', () => {
    for (const path of [
      'Connections.Main.Login',
      'TicketConnector.Push.Port',
      'TicketConnector.Push.Path',
      'TicketConnector.Encryption.ActiveKey',
      'TicketConnector.Sweep.Interval',
      'TicketConnector.Budget.Default.CallsPerHour',
    ]) {
      assert.ok(!isSecretSetting(path.split('.')), path);
    }
  });
});
