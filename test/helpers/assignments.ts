import type { AssignmentTransition } from '../../src/assignments/store';

export const TEST_TICKET = { table: 'incident', number: 'INC0010001', sysId: 'a'.repeat(32) };

/** A Transmitted transition with its ticket; `overrides` replace whole fields. */
export function testTransition(overrides: Partial<AssignmentTransition> = {}): AssignmentTransition {
  return {
    orderId: 'order-1',
    assignmentId: '42',
    connection: 'Main',
    resourceType: 'SAP_Role',
    changeType: 'Added',
    state: 'Transmitted',
    ticket: { ...TEST_TICKET },
    at: '2024-05-01T10:00:00.000Z',
    ...overrides,
  };
}
