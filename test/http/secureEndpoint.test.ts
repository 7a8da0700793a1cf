import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkSecureEndpoint, requireSecureEndpoint } from '../../src/http/secureEndpoint';

function problems(url: string): string[] {
  const check = checkSecureEndpoint(url);
  return check.ok ? [] : check.problems.map((problem) => problem.kind);
}

describe('checkSecureEndpoint', () => {
  test('https anywhere and plain http to loopback are accepted', () => {
    for (const url of [
      'https://dev1234.service-now.com/api/now/table',
      'http://127.0.0.1:8080/api',
      'http://127.9.9.9/api',
      'http://localhost:3000/x',
      'http://sim.localhost/x',
      'http://[::1]:8443/x',
    ]) {
      const check = checkSecureEndpoint(url);
      assert.ok(check.ok, url);
      assert.equal(check.url.href, new URL(url).href);
    }
  });

  test('plain http to another host, or another scheme, is refused with the origin only', () => {
    for (const url of ['http://im.example.com/api?key=k', 'http://10.0.0.5/x', 'ftp://files.example/x']) {
      const check = checkSecureEndpoint(url);
      assert.ok(!check.ok, url);
      const [problem] = check.problems;
      assert.equal(problem?.kind, 'not-https');
      assert.ok(problem !== undefined && 'origin' in problem && !problem.origin.includes('key='), url);
    }
  });

  test('credentials in the URL are refused, also over https, with the URL still given for other checks', () => {
    assert.deepEqual(problems('https://user:pw@im.example.com/x'), ['credentials-in-url']);
    assert.deepEqual(problems('http://user@im.example.com/x'), ['not-https', 'credentials-in-url']);
    const check = checkSecureEndpoint('https://user:pw@im.example.com/x');
    assert.equal(check.url?.pathname, '/x');
  });

  test('text that is not a URL is refused as such', () => {
    assert.deepEqual(problems('not a url'), ['not-a-url']);
    assert.equal(checkSecureEndpoint('').ok, false);
  });

  test("requireSecureEndpoint returns the URL, or throws the caller's error for the first problem", () => {
    const refuse = (problem: { kind: string }) => new RangeError(`refused: ${problem.kind}`);
    assert.equal(requireSecureEndpoint('https://im.example/x', refuse).host, 'im.example');
    assert.throws(
      () => requireSecureEndpoint('http://im.example/x', refuse),
      /^RangeError: refused: not-https$/,
    );
    assert.throws(() => requireSecureEndpoint('::', refuse), /refused: not-a-url/);
  });
});
