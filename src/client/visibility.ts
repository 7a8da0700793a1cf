/**
 * A string literal of a Temporal visibility query: backslashes and single quotes escaped, so that a value (an
 * assignment id, a connection, a ticket number from an operator) cannot end the literal and add terms.
 */
export function visibilityLiteral(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
