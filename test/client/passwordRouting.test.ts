import assert from 'node:assert/strict';
import { Keyring } from '../../src/codec/keyring';
import { AesGcmPayloadCodec } from '../../src/codec/payloadCodec';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { canonicalJson, orderWorkflowId } from '../../src/client/provisioning';
import { passwordResetWorkflowId } from '../../src/client/passwordReset';
import { parseProvisioningInput } from '../../src/contract/order';
import { checkPasswordResetInput } from '../../src/contract/passwordReset';
import { parseSettings } from '../../src/config/load';
import { ConfigError } from '../../src/config/load';

const KEY = Buffer.alloc(32, 3);
const secret = { attribute: 'InitialPassword', key: KEY };

const input = (password: string) =>
  parseProvisioningInput({
    connection: 'Main',
    order: {
      AssignedResourceTypeId: 77,
      ChangeType: 'Modified',
      Owner: { Id: 1 },
      ResourceType: { Identifier: 'App_Account' },
      Changes: { InitialPassword: password, Login: 'jdoe' },
    },
  });

describe('workflow ids of orders that carry a password', () => {
  test('the same password gives the same id; another password, another id', () => {
    assert.equal(
      orderWorkflowId(input('First-pass-1'), secret),
      orderWorkflowId(input('First-pass-1'), secret),
    );
    assert.notEqual(
      orderWorkflowId(input('First-pass-1'), secret),
      orderWorkflowId(input('Other-pass-2'), secret),
    );
  });

  test('the digest is not the plain one: a guess cannot be checked without the key', () => {
    const withKey = orderWorkflowId(input('First-pass-1'), secret);
    assert.notEqual(withKey, orderWorkflowId(input('First-pass-1')));
    assert.notEqual(withKey, orderWorkflowId(input('First-pass-1'), { ...secret, key: Buffer.alloc(32, 4) }));
    const plain = createHash('sha256').update(canonicalJson('First-pass-1')).digest('hex');
    assert.ok(!withKey.includes(plain.slice(0, 12)));
    assert.match(withKey, /^Main:77:modified:[0-9a-f]{12}$/);
  });

  test('password reset ids name the connection and the request; the user only by a keyed digest', () => {
    const keyring = (key: Buffer) => new Keyring([{ id: 'k1', key }], 'k1');
    const codec = new AesGcmPayloadCodec(keyring(Buffer.alloc(32, 7)), { encrypt: true });
    const byName = passwordResetWorkflowId('Main', { userName: 'jdoe' }, 'r-1', codec);
    assert.match(byName, /^password-reset:Main:[0-9a-f]{16}:r-1$/);
    assert.ok(!byName.includes('jdoe'));
    assert.equal(passwordResetWorkflowId('Main', { userName: 'JDoe' }, 'r-1', codec), byName);
    assert.notEqual(passwordResetWorkflowId('Main', { userName: 'asmith' }, 'r-1', codec), byName);
    const sysId = 'a'.repeat(32);
    assert.ok(!passwordResetWorkflowId('Main', { sysId }, 'r-2', codec).includes(sysId));
    const plain = createHash('sha256').update('user_name:jdoe').digest('hex').slice(0, 16);
    assert.ok(!byName.includes(plain), 'not a plain hash that a guess could check');
    const otherKey = new AesGcmPayloadCodec(keyring(Buffer.alloc(32, 8)), { encrypt: true });
    assert.notEqual(passwordResetWorkflowId('Main', { userName: 'jdoe' }, 'r-1', otherKey), byName);
  });
});

describe('password reset input and the mapping setting', () => {
  test('exactly one of sysId and userName; a password of 1 to 1024 characters; problems never quote it', () => {
    const password = 'Quoted-Pa55word';
    for (const [value, problem] of [
      [{ connection: 'Main', user: {}, password }, /^user/],
      [{ connection: 'Main', user: { sysId: 'A'.repeat(32) }, password }, /^user/],
      [{ connection: 'Main', user: { userName: 'x' }, password: '' }, /^password: must not be empty/],
      [
        { connection: 'Main', user: { userName: 'x' }, password: 'x'.repeat(1025) },
        /^password: must be at most 1024/,
      ],
      [{ connection: 'Main', user: { userName: 'x' }, password, extra: password }, /Unrecognized key/],
    ] as const) {
      const checked = checkPasswordResetInput(value);
      assert.equal(checked.ok, false);
      if (checked.ok) continue;
      assert.match(checked.problems.join('\n'), problem);
      assert.ok(!checked.problems.join('\n').includes(password));
    }
    assert.equal(checkPasswordResetInput({ connection: 'Main', user: { userName: 'x' }, password }).ok, true);
  });

  test('ResourceTypeMappings.<type>.Password needs Attribute and UserAttribute, and nothing else', () => {
    const settings = (password: unknown) => ({
      Connections: { Main: { Server: 'https://a.service-now.com/api/now/table', Login: 'a', Password: 'b' } },
      TicketConnector: {
        ResourceTypeMappings: {
          App: {
            Connection: 'Main',
            CallerId: 'svc',
            TitleTemplate: 't',
            DescriptionTemplate: 'd',
            Password: password,
          },
        },
      },
    });
    const parsed = parseSettings(settings({ Attribute: 'InitialPassword', UserAttribute: 'Login' }), 'test');
    assert.deepEqual(parsed.TicketConnector.ResourceTypeMappings.App?.Password, {
      Attribute: 'InitialPassword',
      UserAttribute: 'Login',
    });
    assert.throws(
      () => parseSettings(settings({ Attribute: 'InitialPassword' }), 'test'),
      (error: unknown) => error instanceof ConfigError && /Password\.UserAttribute/.test(error.message),
    );
    assert.throws(
      () => parseSettings(settings({ Attribute: 'A', UserAttribute: 'B', Value: 'x' }), 'test'),
      ConfigError,
    );
  });
});
