import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseNotice } from '../../src/push/notice';

const NOTICE = {
  table: 'sc_request',
  sys_id: 'abcdefabcdefabcdefabcdefabcdef12',
  number: 'REQ0010001',
  sys_mod_count: '12',
};

const parse = (value: unknown) => parseNotice(Buffer.from(JSON.stringify(value)));

describe('push notice', () => {
  test('takes strings as ServiceNow sends them, or a number of changes as a number', () => {
    const expected = { table: 'sc_request', sysId: NOTICE.sys_id, number: 'REQ0010001', sysModCount: 12 };
    assert.deepEqual(parse(NOTICE), { ok: true, notice: expected });
    assert.deepEqual(parse({ ...NOTICE, sys_mod_count: 12 }), { ok: true, notice: expected });
  });

  test('an empty correlation id is none; a present one is kept', () => {
    const untagged = parse({ ...NOTICE, correlation_id: '' });
    assert.ok(untagged.ok && !('correlationId' in untagged.notice));
    const tagged = parse({ ...NOTICE, correlation_id: 'Sim:1:added:abc' });
    assert.equal(tagged.ok && tagged.notice.correlationId, 'Sim:1:added:abc');
  });

  test('names each wrong field without repeating its value', () => {
    const refused = parse({
      table: 'sys_user',
      sys_id: 'ABCDEF',
      number: "INC1' OR '1'='1",
      sys_mod_count: '-1',
      correlation_id: 'x'.repeat(101),
    });
    assert.deepEqual(refused, {
      ok: false,
      problems: [
        'table: must be one of incident, sc_request',
        'sys_id: must be 32 lowercase hex characters',
        'number: must be a ticket number such as INC0010001',
        'sys_mod_count: must be a whole number (ServiceNow sends it as a string)',
        'correlation_id: must be at most 100 characters (an order id)',
      ],
    });
    assert.deepEqual(parse({ ...NOTICE, correlation_id: '..' }), {
      ok: false,
      problems: ['correlation_id: must not be "." or ".."'],
    });
    assert.deepEqual(parse({ ...NOTICE, sys_mod_count: 1.5 }), {
      ok: false,
      problems: ['sys_mod_count: must be a whole number (ServiceNow sends it as a string)'],
    });
  });

  test('a body that is no JSON object is refused', () => {
    assert.deepEqual(parse([NOTICE]), { ok: false, problems: ['the body must be a JSON object'] });
    assert.deepEqual(parse(null), { ok: false, problems: ['the body must be a JSON object'] });
    assert.deepEqual(parseNotice(Buffer.from('{"table":')), {
      ok: false,
      problems: ['the body is not valid JSON'],
    });
    assert.deepEqual(parse({}), {
      ok: false,
      problems: [
        'table: must be one of incident, sc_request',
        'sys_id: is required',
        'number: is required',
        'sys_mod_count: must be a whole number (ServiceNow sends it as a string)',
      ],
    });
  });
});
