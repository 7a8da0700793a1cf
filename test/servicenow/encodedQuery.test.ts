import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  EncodedQuery,
  EncodedQueryError,
  parseEncodedQuery,
  serialize,
} from '../../src/servicenow/encodedQuery';
import { fieldsOf } from '../../src/servicenow/tables';

const incident = () => EncodedQuery.over(fieldsOf('incident'));

describe('encoded query builder', () => {
  test('joins AND, OR, NQ and ORDERBY terms the way ServiceNow reads them', () => {
    const query = incident()
      .where('active', '=', 'true')
      .where('state', '=', '1')
      .or('state', '=', '2')
      .newQuery()
      .where('number', 'STARTSWITH', 'INC')
      .orderBy('sys_updated_on')
      .orderBy('number', true);
    assert.equal(
      query.toString(),
      'active=true^state=1^ORstate=2^NQnumberSTARTSWITHINC^ORDERBYsys_updated_on^ORDERBYDESCnumber',
    );
  });

  test('escapes ^ in values so injected terms stay literal text', () => {
    assert.equal(
      incident().where('short_description', '=', 'x^NQactive=false').toString(),
      'short_description=x^^NQactive=false',
    );
    assert.equal(
      incident().where('correlation_id', '=', 'x^ORsys_id!=0').toString(),
      'correlation_id=x^^ORsys_id!=0',
    );
  });

  test('an escaped value parses back to exactly one condition holding the original text', () => {
    for (const value of ['x^NQactive=false', 'x^ORsys_id!=0', '^', 'a^^b', 'ends with ^']) {
      const parsed = parseEncodedQuery(incident().where('short_description', '=', value).toString());
      assert.deepEqual(parsed.groups, [[[{ field: 'short_description', operator: '=', value }]]], value);
    }
  });

  test('writes unary operators without a value and list operators comma-joined', () => {
    assert.equal(
      incident()
        .where('closed_at', 'ISEMPTY')
        .where('sys_id', 'IN', ['a', 'b'])
        .where('state', 'NOT IN', '6,7')
        .toString(),
      'closed_atISEMPTY^sys_idINa,b^stateNOT IN6,7',
    );
  });

  test('rejects field names outside the allow-list, naming the field', () => {
    assert.throws(() => incident().where('no_such_field', '=', 'x'), /'no_such_field'.*not an allowed field/);
    assert.throws(() => incident().where('state=1^ORactive', '=', 'x'), /not a valid field name/);
    assert.throws(() => incident().orderBy('Number'), /not a valid field name/);
  });

  test('rejects values that have no escape', () => {
    assert.throws(() => incident().where('sys_id', 'IN', ['a,b']), /',' cannot be escaped/);
    assert.throws(() => incident().where('number', 'IN', ['a@b']), /'@' cannot be escaped/);
    assert.throws(() => incident().where('opened_at', '>', '2024-01-01@2024-02-01'), /'@' cannot be escaped/);
    assert.throws(() => incident().where('number', '=', 'javascript:gs.getUserID()'), /javascript:/);
    assert.throws(() => incident().where('number', '=', 'a\nb'), /control character/);
    assert.throws(() => incident().where('sys_id', 'IN', []), /at least one value/);
    assert.throws(() => incident().where('sys_id', 'IN', 'a,,b'), /items must not be empty/);
    assert.throws(() => incident().where('sys_id', 'IN', ''), /items must not be empty/);
  });

  test('an e-mail address is fine in an equality', () => {
    assert.equal(
      incident().where('short_description', '=', 'a@b.com').toString(),
      'short_description=a@b.com',
    );
  });

  test('and() distributes a filter over NQ groups so it can never widen the query', () => {
    const filter = parseEncodedQuery('active=true^NQstate=7');
    const query = incident().where('sys_id', '>', 'abc').and(filter);
    assert.equal(query.toString(), 'sys_id>abc^active=true^NQsys_id>abc^state=7');
  });

  test("and() can leave out the filter's ordering", () => {
    const filter = parseEncodedQuery('active=true^ORDERBYnumber');
    assert.equal(
      incident().and(filter).orderBy('sys_id').toString(),
      'active=true^ORDERBYnumber^ORDERBYsys_id',
    );
    assert.equal(
      incident().and(filter, { ignoreOrder: true }).orderBy('sys_id').toString(),
      'active=true^ORDERBYsys_id',
    );
  });

  test('reports problems with the error type the caller chooses', () => {
    const query = EncodedQuery.over(['a'], (field, problem) => new RangeError(`${field}: ${problem}`));
    assert.throws(() => query.where('b', '=', 'x'), {
      name: 'RangeError',
      message: 'b: is not an allowed field for this query',
    });
  });

  test('and() re-checks the filter against the allow-list', () => {
    assert.throws(() => incident().and(parseEncodedQuery('u_typo=1^no_field=2')), EncodedQueryError);
  });

  test('or() and newQuery() need a condition before them', () => {
    assert.throws(() => incident().or('state', '=', '1'), /\^OR needs a condition/);
    assert.throws(() => incident().newQuery(), /\^NQ needs a condition/);
  });
});

describe('encoded query parser', () => {
  test('parses every operator', () => {
    const query =
      'a=1^b!=2^c<3^d<=4^e>5^f>=6^gIN7,8^hNOT IN9^iSTARTSWITHx^jENDSWITHy^kLIKEz^lNOT LIKEw^mISEMPTY^nISNOTEMPTY';
    const operators = parseEncodedQuery(query).groups[0]?.map((clause) => clause[0]?.operator);
    assert.deepEqual(operators, [
      '=',
      '!=',
      '<',
      '<=',
      '>',
      '>=',
      'IN',
      'NOT IN',
      'STARTSWITH',
      'ENDSWITH',
      'LIKE',
      'NOT LIKE',
      'ISEMPTY',
      'ISNOTEMPTY',
    ]);
  });

  test('round-trips through serialize', () => {
    const text = 'active=true^state=1^ORstate=2^NQnumberSTARTSWITHINC^^X^ORDERBYDESCsys_updated_on';
    assert.equal(serialize(parseEncodedQuery(text)), text);
  });

  test('accepts the EQ end marker and an empty query', () => {
    assert.deepEqual(parseEncodedQuery('active=true^EQ').groups, [
      [[{ field: 'active', operator: '=', value: 'true' }]],
    ]);
    assert.deepEqual(parseEncodedQuery(''), { groups: [], orderBy: [] });
  });

  test('is strict where ServiceNow would silently drop a term', () => {
    assert.throws(() => parseEncodedQuery('active'), /no known operator/);
    assert.throws(() => parseEncodedQuery('Active=true'), /does not start with a field name/);
    assert.throws(() => parseEncodedQuery('^ORstate=1'), /\^OR needs a condition/);
  });
});
