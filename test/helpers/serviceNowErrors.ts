import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { ServiceNowError } from '../../src/servicenow/errors';

/** Runs an action that must fail with an error of `type`, and returns that error. */
export async function failureOf<E extends Error>(
  type: abstract new (...args: never[]) => E,
  action: () => Promise<unknown>,
): Promise<E> {
  try {
    await action();
  } catch (error) {
    assert.ok(error instanceof type, `expected ${type.name}, got ${inspect(error)}`);
    return error;
  }
  assert.fail('expected the call to fail');
}

export function serviceNowFailure(action: () => Promise<unknown>): Promise<ServiceNowError> {
  return failureOf(ServiceNowError, action);
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
