import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { ServiceNowError } from '../../src/servicenow/errors';

/** Runs an action that must fail with a ServiceNowError, and returns that error. */
export async function serviceNowFailure(action: () => Promise<unknown>): Promise<ServiceNowError> {
  try {
    await action();
  } catch (error) {
    assert.ok(error instanceof ServiceNowError, `expected a ServiceNowError, got ${inspect(error)}`);
    return error;
  }
  assert.fail('expected the call to fail');
}

/** Every rendering of an error a log or a Temporal failure could contain. */
export function renderings(error: Error): string[] {
  return [
    error.message,
    String(error.stack),
    inspect(error, { depth: 20, showHidden: true }),
    JSON.stringify(error),
  ];
}
