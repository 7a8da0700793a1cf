import { fieldKind, Severity, type TicketTable } from '../servicenow/tables';
import type { ProvisioningOrder } from '../contract/order';
import { renderTemplate, TicketTemplateError } from './templates';
import { clip } from '../contract/limits';
import type { PasswordMapping } from './orderPassword';

/**
 * What a ticket says about a provisioning order, from the order's resource type mapping. Runs in activities, not
 * in workflow code: compiled templates are cached per process. No Node built-ins, so it can be reused elsewhere.
 */

/** How orders of one resource type become tickets (`TicketConnector.ResourceTypeMappings.<type>`, defaults applied). */
export interface ResourceTypeMapping {
  readonly Connection: string;
  readonly Table: TicketTable;
  /** A sys_user sys_id or user_name. */
  readonly CallerId: string;
  readonly Category?: string;
  readonly Subcategory?: string;
  readonly Impact: keyof typeof Severity;
  readonly Urgency: keyof typeof Severity;
  readonly TitleTemplate: string;
  readonly DescriptionTemplate: string;
  readonly AdditionalText?: string;
  readonly TicketSynchroIsNotAvailable: boolean;
  /** For sc_request: order this catalog item instead of inserting the request. */
  readonly CatalogItem?: string;
  /** Orders whose Changes carry this password attribute set a password instead of opening a ticket. */
  readonly Password?: PasswordMapping;
}

/** The mappings by resource type. A Map, so that a resource type named "constructor" is mapped only on purpose. */
export type ResourceTypeMappings = ReadonlyMap<string, ResourceTypeMapping>;

export interface TicketContent {
  table: TicketTable;
  /** The mapping's CallerId: a sys_id or a user_name, still to be resolved to a sys_id. */
  caller: string;
  /** Field values to write, only fields the table has. */
  fields: Record<string, string>;
  /** For sc_request: the catalog item to order instead of inserting the request. */
  catalogItem?: string;
}

/** Used when the data dictionary gives no length; ServiceNow cuts a longer short_description silently. */
const TITLE_MAX_LENGTH = 160;
const DESCRIPTION_MAX_LENGTH = 32_000;

export class MissingMappingError extends Error {
  constructor(
    readonly resourceType: string,
    readonly mappedResourceTypes: readonly string[],
  ) {
    const mapped = mappedResourceTypes.length > 0 ? mappedResourceTypes.join(', ') : 'none';
    super(
      `Resource type "${resourceType}" has no ticket mapping: add it under TicketConnector.ResourceTypeMappings ` +
        `(mapped resource types: ${mapped})`,
    );
    this.name = 'MissingMappingError';
  }
}

export class MappingConnectionError extends TicketTemplateError {
  constructor(
    resourceType: string,
    readonly mappingConnection: string,
    readonly connection: string,
  ) {
    super(
      resourceType,
      'mapping',
      `the mapping opens tickets through connection "${mappingConnection}", but the order was sent for ` +
        `connection "${connection}" (send it for "${mappingConnection}", or change the mapping's Connection)`,
    );
    this.name = 'MappingConnectionError';
  }
}

function checkConnection(resourceType: string, mapping: ResourceTypeMapping, connection: string): void {
  if (mapping.Connection !== connection) {
    throw new MappingConnectionError(resourceType, mapping.Connection, connection);
  }
}

/** The mapping for an order of `resourceType` sent for `connection`. */
export function resolveMapping(
  mappings: ResourceTypeMappings,
  resourceType: string,
  connection: string,
): ResourceTypeMapping {
  const mapping = mappings.get(resourceType);
  if (mapping === undefined) throw new MissingMappingError(resourceType, [...mappings.keys()].sort());
  checkConnection(resourceType, mapping, connection);
  return mapping;
}

export interface LinkChange {
  Property: string;
  Values: unknown[];
}

/**
 * Template variables, the order's own fields first:
 *
 * - `AssignedResourceTypeId`, `ChangeType` (`Added`, `Modified` or `Deleted`), `WorkflowInstanceId`
 * - `Owner.*` (`Owner.Id`, `Owner.Identifier`, `Owner.InternalDisplayName`, and any other attribute Identity Manager
 *   sends), `ResourceType.*` (`Identifier`, `Id`, `SourceEntityType.Identifier`, `TargetEntityType.Identifier`)
 * - `Changes.*`: the new or changed attribute values; `Resource.*`: the current values (Modified and Deleted)
 * - any other field of the order, as Identity Manager wrote it
 *
 * and values the connector adds (they win over order fields of the same name):
 *
 * - `ConnectionId`: the connection identifier the order was sent for
 * - `OrderId`: the order's workflow id, also the ticket's correlation id
 * - `Added`, `Modified`, `Deleted`: true for the order's change type, for `{{#if Added}}`
 * - `AddedLinks`, `RemovedLinks`: multi-valued navigation changes, one `{ Property, Values }` per property.
 *   Identity Manager writes them in `Changes` either as `"Groups_add": [...]` / `"Groups_remove": [...]` or as
 *   `"Groups": { "Added": [...], "Removed": [...] }`; both give `{ Property: "Groups", Values: [...] }`. A
 *   single value stands for a list of one; null items and properties without values are left out.
 *
 * Helpers besides Handlebars' own (`if`, `unless`, `each`, `with`, `lookup`):
 *
 * - `{{#ifCond left 'op' right}}…{{else}}…{{/ifCond}}`, op one of `==` `!=` (compare as text, so 5 == '5'),
 *   `===` `!==` (strict), `<` `<=` `>` `>=` (as numbers when both sides are numbers, else as text), `&&` `||`
 *   (an empty list is false). As a subexpression it gives true or false: `{{#if (ifCond Changes.Level '>' 2)}}`.
 * - `{{join list ', '}}`: the items as text, separated by the second argument (default `, `). Objects show
 *   their `InternalDisplayName`, `DisplayName`, `Identifier` or `Id`, the first one present.
 * - `{{default value 'fallback'}}`: the first argument that is not missing, empty text or an empty list.
 *
 * Text is not HTML-escaped. Missing values render empty. Inside `{{#each}}`, reach top-level variables with
 * `@root.`, e.g. `{{@root.Owner.InternalDisplayName}}`. The title is collapsed to one line; `AdditionalText` is
 * rendered like a template and appended to the description after a blank line.
 */
export function templateContext(
  order: ProvisioningOrder,
  ids: { connection: string; orderId: string },
): Record<string, unknown> {
  const { added, removed } = linkChanges(order.Changes ?? {});
  return {
    ...order,
    ConnectionId: ids.connection,
    OrderId: ids.orderId,
    Added: order.ChangeType === 'Added',
    Modified: order.ChangeType === 'Modified',
    Deleted: order.ChangeType === 'Deleted',
    AddedLinks: added,
    RemovedLinks: removed,
  };
}

function linkChanges(changes: Record<string, unknown>): { added: LinkChange[]; removed: LinkChange[] } {
  const added = new Map<string, unknown[]>();
  const removed = new Map<string, unknown[]>();
  const collect = (into: Map<string, unknown[]>, property: string, value: unknown) => {
    const list: unknown[] = Array.isArray(value) ? value : [value];
    const values = list.filter((item) => item !== null && item !== undefined);
    if (values.length > 0) into.set(property, [...(into.get(property) ?? []), ...values]);
  };
  for (const [key, value] of Object.entries(changes)) {
    const suffixed = /^(.+)_(add|remove)$/.exec(key);
    if (suffixed) {
      collect(suffixed[2] === 'add' ? added : removed, suffixed[1]!, value);
    } else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const delta = value as Record<string, unknown>;
      if (Object.hasOwn(delta, 'Added')) collect(added, key, delta.Added);
      if (Object.hasOwn(delta, 'Removed')) collect(removed, key, delta.Removed);
    }
  }
  const list = (links: Map<string, unknown[]>) =>
    [...links].map(([Property, Values]): LinkChange => ({ Property, Values }));
  return { added: list(added), removed: list(removed) };
}

function maxLength(table: TicketTable, field: string, fallback: number): number {
  const kind = fieldKind(table, field);
  return kind?.type === 'string' && kind.maxLength !== undefined ? kind.maxLength : fallback;
}

export function renderTicketContent(input: {
  resourceType: string;
  mapping: ResourceTypeMapping;
  order: ProvisioningOrder;
  connection: string;
  orderId: string;
}): TicketContent {
  const { resourceType, mapping, order, connection, orderId } = input;
  checkConnection(resourceType, mapping, connection);
  const { Table: table } = mapping;
  const context = templateContext(order, { connection, orderId });

  const title = renderTemplate(resourceType, 'TitleTemplate', mapping.TitleTemplate, context)
    .replace(/\s+/g, ' ')
    .trim();
  if (title === '') {
    throw new TicketTemplateError(
      resourceType,
      'TitleTemplate',
      'TitleTemplate rendered an empty title for this order; ServiceNow needs a short description ' +
        "(check the variables it uses, or give a fallback with {{default Owner.Identifier 'unknown'}})",
    );
  }
  const description = [
    renderTemplate(resourceType, 'DescriptionTemplate', mapping.DescriptionTemplate, context),
    mapping.AdditionalText === undefined
      ? ''
      : renderTemplate(resourceType, 'AdditionalText', mapping.AdditionalText, context),
  ]
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .join('\n\n');

  const candidates: Record<string, string | undefined> = {
    short_description: clip(title, maxLength(table, 'short_description', TITLE_MAX_LENGTH)),
    description: clip(description, maxLength(table, 'description', DESCRIPTION_MAX_LENGTH)),
    impact: Severity[mapping.Impact],
    urgency: Severity[mapping.Urgency],
    category: mapping.Category,
    subcategory: mapping.Subcategory,
  };
  const fields = Object.fromEntries(
    Object.entries(candidates).filter(
      (entry): entry is [string, string] =>
        entry[1] !== undefined && entry[1].trim() !== '' && fieldKind(table, entry[0]) !== undefined,
    ),
  );
  return {
    table,
    caller: mapping.CallerId,
    fields,
    ...(mapping.CatalogItem === undefined ? {} : { catalogItem: mapping.CatalogItem }),
  };
}
