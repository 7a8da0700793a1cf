import { ApplicationFailure } from '@temporalio/activity';
import type { ProvisioningOrder } from '../contract/order';
import { PasswordFailureTypes, type PasswordSetUser, type PasswordUser } from '../contract/passwordReset';
import type { ResourceTypeMappings } from '../provisioning/ticketContent';
import { resolveMapping } from '../provisioning/ticketContent';
import type { ServiceNowClients } from '../servicenow/connection';
import { isSysId } from '../servicenow/tables';
import { asActivity } from './failures';
import { heartbeating } from './heartbeat';
import { orderPassword, OrderPasswordError } from '../provisioning/orderPassword';

export interface PasswordResetActivityDependencies {
  /** One client per connection, shared by all activities so that OAuth tokens are reused. */
  readonly serviceNow: ServiceNowClients;
  /** The ticket mappings, whose `Password` setting says where an order carries a password. */
  readonly mappings: ResourceTypeMappings;
}

export interface SetUserPasswordRequest {
  readonly connection: string;
  readonly user: PasswordUser;
  readonly password: string;
}

export interface OrderPasswordRequest {
  readonly connection: string;
  readonly order: ProvisioningOrder;
}

/**
 * The activities of a password reset. They run only on the password task queue, whose worker encrypts their
 * input, result and failures; what they throw names the user and ServiceNow's (redacted) words, never the
 * password. Setting the same password twice is harmless, so retries are safe.
 */
export function createPasswordResetActivities(deps: PasswordResetActivityDependencies) {
  async function setPassword(
    connection: string,
    user: PasswordUser,
    password: string,
  ): Promise<PasswordSetUser> {
    return heartbeating((signal) => deps.serviceNow(connection).setUserPassword(user, password, { signal }));
  }

  return {
    async setUserPassword(request: SetUserPasswordRequest): Promise<PasswordSetUser> {
      return asActivity(() => setPassword(request.connection, request.user, request.password));
    },

    /** The password an order carries (its mapping's `Password` setting), set on the user the order names. */
    async resetOrderPassword(request: OrderPasswordRequest): Promise<PasswordSetUser> {
      return asActivity(async () => {
        const resourceType = request.order.ResourceType.Identifier;
        const mapping = resolveMapping(deps.mappings, resourceType, request.connection);
        let found;
        try {
          found = orderPassword(resourceType, mapping, request.order);
        } catch (error) {
          if (!(error instanceof OrderPasswordError)) throw error;
          throw ApplicationFailure.create({
            type: PasswordFailureTypes.noPassword,
            message: error.message,
            nonRetryable: true,
          });
        }
        if (found === undefined) {
          throw ApplicationFailure.create({
            type: PasswordFailureTypes.noPassword,
            message: `Resource type "${resourceType}": the order carries no password attribute (its mapping's Password.Attribute); nothing was sent to ServiceNow`,
            nonRetryable: true,
          });
        }
        const user: PasswordUser = isSysId(found.user) ? { sysId: found.user } : { userName: found.user };
        return setPassword(request.connection, user, found.password);
      });
    },
  };
}

export type PasswordResetActivities = ReturnType<typeof createPasswordResetActivities>;
