import type { ProvisioningOrder } from '../contract/order';

/**
 * Where Identity Manager's orders of one resource type carry a password
 * (`TicketConnector.ResourceTypeMappings.<type>.Password`): `Attribute` names the attribute of the order's
 * Changes that holds the new password; `UserAttribute` names the attribute (looked up in Changes, then
 * Resource) whose value identifies the ServiceNow user: a sys_id (32 hex characters) or a user_name.
 *
 * Such orders go to the password task queue and set the password instead of opening a ticket. No Node
 * built-ins: the client and the activities share it.
 */
export interface PasswordMapping {
  readonly Attribute: string;
  readonly UserAttribute: string;
}

/** An order whose password setting cannot be used; names the attribute, never a value. */
export class OrderPasswordError extends Error {
  constructor(resourceType: string, problem: string) {
    super(`Resource type "${resourceType}": ${problem}`);
    this.name = 'OrderPasswordError';
  }
}

function own(attributes: Readonly<Record<string, unknown>> | undefined, name: string): unknown {
  return attributes !== undefined && Object.hasOwn(attributes, name) ? attributes[name] : undefined;
}

/** Whether the order's Changes carry the mapping's password attribute (any value but null or absent). */
export function carriesPassword(
  mapping: { readonly Password?: PasswordMapping } | undefined,
  order: ProvisioningOrder,
): boolean {
  const setting = mapping?.Password;
  if (setting === undefined) return false;
  const value = own(order.Changes, setting.Attribute);
  return value !== undefined && value !== null;
}

/**
 * The password and the user of an order whose Changes carry the mapping's password attribute; undefined when
 * they do not. OrderPasswordError when the password is not a non-empty string or the user attribute is missing.
 */
export function orderPassword(
  resourceType: string,
  mapping: { readonly Password?: PasswordMapping },
  order: ProvisioningOrder,
): { password: string; user: string } | undefined {
  const setting = mapping.Password;
  if (setting === undefined || !carriesPassword(mapping, order)) return undefined;
  const password = own(order.Changes, setting.Attribute);
  if (typeof password !== 'string' || password === '') {
    throw new OrderPasswordError(
      resourceType,
      `the order's Changes.${setting.Attribute} (the password) must be a non-empty string`,
    );
  }
  const user = own(order.Changes, setting.UserAttribute) ?? own(order.Resource, setting.UserAttribute);
  const text = typeof user === 'string' || typeof user === 'number' ? String(user).trim() : '';
  if (text === '') {
    throw new OrderPasswordError(
      resourceType,
      `the order carries a password but no ${setting.UserAttribute} (in Changes or Resource) to find the ServiceNow user by (Password.UserAttribute)`,
    );
  }
  return { password, user: text };
}
