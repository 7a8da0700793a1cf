import { ApiError } from './apiErrors';

/**
 * The instance's password policy, applied where a password becomes usable (written with
 * `sysparm_input_display_value=true`): at least 8 characters, with a letter and a digit. The refusal names the
 * policy and its rules, never the password, as the platform's does.
 */
export const PASSWORD_POLICY = {
  name: 'Simulator default password policy',
  minLength: 8,
} as const;

/** The rules of the policy `password` breaks; empty when it complies. */
export function passwordPolicyProblems(password: string): string[] {
  const problems: string[] = [];
  if ([...password].length < PASSWORD_POLICY.minLength) {
    problems.push(`at least ${PASSWORD_POLICY.minLength} characters`);
  }
  if (!/\p{L}/u.test(password)) problems.push('at least one letter');
  if (!/\p{Nd}/u.test(password)) problems.push('at least one digit');
  return problems;
}

export function assertPasswordPolicy(password: string): void {
  const problems = passwordPolicyProblems(password);
  if (problems.length === 0) return;
  throw new ApiError(
    400,
    'Password does not meet the password policy',
    `${PASSWORD_POLICY.name}: the password needs ${problems.join(', ')}`,
  );
}
