import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, mock, test } from 'node:test';
import { loadConfig, parseSettings } from '../../src/config/load';
import { provisioningOrderSchema, type ProvisioningOrder } from '../../src/contract/order';
import { resourceTypeMappings } from '../../src/platform/adapters';
import { compileMappings, renderTemplate, TicketTemplateError } from '../../src/provisioning/templates';
import {
  MappingConnectionError,
  MissingMappingError,
  renderTicketContent,
  resolveMapping,
  templateContext,
  type ResourceTypeMapping,
} from '../../src/provisioning/ticketContent';

const example = loadConfig({
  file: path.join(__dirname, '..', '..', 'config', 'appsettings.agent.example.json'),
  env: {},
}).settings;
const EXAMPLE_TYPE = 'SAP_Role_Manual';
const CONNECTION = 'ServiceNowFulfill';

function order(overrides: Record<string, unknown> = {}): ProvisioningOrder {
  return provisioningOrderSchema.parse({
    AssignedResourceTypeId: 4711,
    ChangeType: 'Added',
    Owner: { Id: 42, Identifier: 'jdoe', InternalDisplayName: 'Jane Doe' },
    ResourceType: { Id: 7, Identifier: EXAMPLE_TYPE },
    WorkflowInstanceId: 'wf-9',
    ...overrides,
  });
}

/** Mappings parsed by the real settings schema, so they carry their defaults. */
function mappingsWith(mappings: Record<string, Record<string, unknown>>) {
  const entries = Object.entries(mappings).map(([type, fields]): [string, Record<string, unknown>] => [
    type,
    {
      Connection: CONNECTION,
      CallerId: 'svc_identity_connector',
      TitleTemplate: '{{ChangeType}} {{ResourceType.Identifier}}',
      DescriptionTemplate: 'Please act.',
      ...fields,
    },
  ]);
  const settings = parseSettings(
    {
      Connections: {
        [CONNECTION]: { Server: 'https://acme.service-now.com/api/now/table', Login: 'a', Password: 'b' },
      },
      TicketConnector: { ResourceTypeMappings: Object.fromEntries(entries) },
    },
    'test settings',
  );
  return resourceTypeMappings(settings);
}

function mappingWith(fields: Record<string, unknown>, type = 'Test_Type'): ResourceTypeMapping {
  return resolveMapping(mappingsWith({ [type]: fields }), type, CONNECTION);
}

function render(mapping: ResourceTypeMapping, theOrder = order(), resourceType = 'Test_Type') {
  return renderTicketContent({
    resourceType,
    mapping,
    order: theOrder,
    connection: CONNECTION,
    orderId: 'order-1',
  });
}

/** Renders one template over a context built from `theOrder`. */
function renderText(template: string, theOrder = order()): string {
  return renderTemplate('Text_Type', 'DescriptionTemplate', template, templateContext(theOrder, ids));
}
const ids = { connection: CONNECTION, orderId: 'order-1' };

describe('ticket content of the example mapping', () => {
  const mapping = resolveMapping(resourceTypeMappings(example), EXAMPLE_TYPE, CONNECTION);
  const renderExample = (theOrder: ProvisioningOrder) => render(mapping, theOrder, EXAMPLE_TYPE);

  test('an Added order asks to grant, with the mapping settings as incident fields', () => {
    assert.deepEqual(renderExample(order()), {
      table: 'incident',
      caller: 'svc_identity_connector',
      fields: {
        short_description: 'Added SAP_Role_Manual for Jane Doe',
        description:
          'Please grant SAP_Role_Manual.\n\n' +
          'Close the ticket once done; cancel it if the request cannot be fulfilled.',
        impact: '3',
        urgency: '3',
        category: 'Access',
        subcategory: 'SAP',
      },
    });
  });

  test('a Modified order asks to change, not to remove', () => {
    const content = renderExample(order({ ChangeType: 'Modified' }));
    assert.equal(content.fields.short_description, 'Modified SAP_Role_Manual for Jane Doe');
    assert.match(content.fields.description!, /^Please change SAP_Role_Manual\.\n\n/);
  });

  test('a Deleted order asks to remove', () => {
    const content = renderExample(order({ ChangeType: 'Deleted' }));
    assert.equal(content.fields.short_description, 'Deleted SAP_Role_Manual for Jane Doe');
    assert.match(content.fields.description!, /^Please remove SAP_Role_Manual\.\n\n/);
  });

  test('the example templates pass the compile check', () => {
    assert.deepEqual(compileMappings(example.TicketConnector.ResourceTypeMappings), []);
  });
});

describe('ifCond', () => {
  const cases: [template: string, changes: Record<string, unknown>, expected: string][] = [
    ["{{#ifCond Changes.n '==' '5'}}yes{{else}}no{{/ifCond}}", { n: 5 }, 'yes'],
    ["{{#ifCond Changes.n '===' '5'}}yes{{else}}no{{/ifCond}}", { n: 5 }, 'no'],
    ["{{#ifCond Changes.n '===' 5}}yes{{else}}no{{/ifCond}}", { n: 5 }, 'yes'],
    ["{{#ifCond Changes.missing '==' ''}}yes{{else}}no{{/ifCond}}", {}, 'yes'],
    ["{{#ifCond Changes.kind '!=' 'INTERNAL'}}yes{{else}}no{{/ifCond}}", { kind: 'INTERNAL' }, 'no'],
    ["{{#ifCond Changes.n '!==' '5'}}yes{{else}}no{{/ifCond}}", { n: 5 }, 'yes'],
    ["{{#ifCond Changes.n '<' '9'}}yes{{else}}no{{/ifCond}}", { n: '10' }, 'no'],
    ["{{#ifCond Changes.n '>' '9'}}yes{{else}}no{{/ifCond}}", { n: '10' }, 'yes'],
    ["{{#ifCond Changes.n '<=' 10}}yes{{else}}no{{/ifCond}}", { n: '10' }, 'yes'],
    ["{{#ifCond Changes.n '>=' 11}}yes{{else}}no{{/ifCond}}", { n: 10 }, 'no'],
    ["{{#ifCond Changes.name '<' 'abd'}}yes{{else}}no{{/ifCond}}", { name: 'abc' }, 'yes'],
    ["{{#ifCond Changes.name '>' 'b'}}yes{{else}}no{{/ifCond}}", { name: 'abc' }, 'no'],
    ["{{#ifCond Changes.list '&&' Changes.on}}yes{{else}}no{{/ifCond}}", { list: [], on: true }, 'no'],
    ["{{#ifCond Changes.list '&&' Changes.on}}yes{{else}}no{{/ifCond}}", { list: [1], on: true }, 'yes'],
    ["{{#ifCond Changes.off '||' Changes.on}}yes{{else}}no{{/ifCond}}", { off: false, on: 'x' }, 'yes'],
    ["{{#ifCond Changes.off '||' Changes.none}}yes{{else}}no{{/ifCond}}", { off: false }, 'no'],
    ["{{#if (ifCond Changes.level '>' 2)}}high{{/if}}", { level: 3 }, 'high'],
    [
      "{{#each Changes.kinds}}{{#ifCond this '==' 'INTERNAL'}}i{{else}}e{{/ifCond}}{{/each}}",
      { kinds: ['INTERNAL', 'X'] },
      'ie',
    ],
  ];
  for (const [template, changes, expected] of cases) {
    test(`${template} over ${JSON.stringify(changes)} renders "${expected}"`, () => {
      assert.equal(renderText(template, order({ Changes: changes })), expected);
    });
  }

  test('an operator only known at render time fails typed, naming the operator', () => {
    const template = '{{#ifCond Changes.a Changes.op Changes.b}}x{{/ifCond}}';
    assert.deepEqual(compileMappings({ Test_Type: { DescriptionTemplate: template } }), []);
    const mapping = mappingWith({ DescriptionTemplate: template });
    assert.throws(
      () => render(mapping, order({ Changes: { a: 1, op: '=~', b: 1 } })),
      (error: unknown) => {
        assert.ok(error instanceof TicketTemplateError);
        assert.equal(error.name, 'TicketTemplateError');
        assert.equal(error.resourceType, 'Test_Type');
        assert.equal(error.template, 'DescriptionTemplate');
        assert.match(
          error.message,
          /^Resource type "Test_Type": DescriptionTemplate cannot be rendered: ifCond at line 1, column 1: unknown operator "=~" \(use one of == === /,
        );
        return true;
      },
    );
  });
});

describe('template values', () => {
  test('HTML characters are written as they are', () => {
    const owner = { Id: 1, InternalDisplayName: `O'Brien <ops> & "co"` };
    assert.equal(
      renderText('{{Owner.InternalDisplayName}}', order({ Owner: owner })),
      `O'Brien <ops> & "co"`,
    );
  });

  test('adjacent numbers are written side by side, not added', () => {
    assert.equal(renderText('{{Changes.a}}{{Changes.b}}', order({ Changes: { a: 1, b: 2 } })), '12');
    assert.equal(renderText('{{Changes.on}}{{Changes.on}}', order({ Changes: { on: true } })), 'truetrue');
  });

  test('prototype properties render empty, without Handlebars logging a warning', () => {
    const logged = mock.method(console, 'error', () => undefined);
    try {
      const template =
        '[{{constructor.name}}][{{__proto__}}][{{Owner.constructor}}][{{lookup Owner "constructor"}}]' +
        '[{{@root.constructor.name}}][{{#with Owner}}{{constructor}}{{/with}}][{{Owner.toString}}]';
      assert.equal(renderText(template), '[][][][][][][]');
      assert.equal(logged.mock.callCount(), 0);
    } finally {
      logged.mock.restore();
    }
  });

  test('convenience values: connection, order id and change type flags', () => {
    const template =
      '{{ConnectionId}}/{{OrderId}}/{{#if Added}}A{{/if}}{{#if Modified}}M{{/if}}{{#if Deleted}}D{{/if}}';
    assert.equal(renderText(template), 'ServiceNowFulfill/order-1/A');
    assert.equal(renderText(template, order({ ChangeType: 'Modified' })), 'ServiceNowFulfill/order-1/M');
  });

  test('added and removed links from both ways of writing navigation changes', () => {
    const changes = {
      Groups_add: [
        { Id: 1, InternalDisplayName: 'Finance' },
        { Id: 2, Identifier: 'hr' },
      ],
      Groups_remove: 'Legacy',
      Roles: { Added: ['Approver', null], Removed: [] },
      Title: 'Engineer',
      Empty_add: [],
    };
    const context = templateContext(order({ Changes: changes }), ids);
    assert.deepEqual(context.AddedLinks, [
      { Property: 'Groups', Values: changes.Groups_add },
      { Property: 'Roles', Values: ['Approver'] },
    ]);
    assert.deepEqual(context.RemovedLinks, [{ Property: 'Groups', Values: ['Legacy'] }]);
    const template =
      '{{#each AddedLinks}}+{{Property}}: {{join Values}}; {{/each}}{{#each RemovedLinks}}-{{Property}}: {{join Values " | "}}{{/each}}';
    assert.equal(
      renderText(template, order({ Changes: changes })),
      '+Groups: Finance, hr; +Roles: Approver; -Groups: Legacy',
    );
  });

  test('default gives the first value that is present', () => {
    const template =
      "{{default Changes.email Owner.Identifier 'unknown'}}|{{default Changes.none 'unknown'}}";
    assert.equal(renderText(template, order({ Changes: { email: '' } })), 'jdoe|unknown');
  });
});

describe('ticket fields', () => {
  test('the title is collapsed to one line and cut at 160 characters with an ellipsis', () => {
    const mapping = mappingWith({ TitleTemplate: '  {{Changes.title}}\n\n  end ' });
    assert.equal(
      render(mapping, order({ Changes: { title: 'Grant\n\tthe   role' } })).fields.short_description,
      'Grant the role end',
    );
    const title = render(mapping, order({ Changes: { title: 'x'.repeat(300) } })).fields.short_description!;
    assert.equal(title.length, 160);
    assert.ok(title.endsWith('x…'));
  });

  test('the description is capped, leaving room for the ellipsis', () => {
    const mapping = mappingWith({ DescriptionTemplate: '{{Changes.text}}' });
    const description = render(mapping, order({ Changes: { text: 'y'.repeat(40_000) } })).fields.description!;
    assert.equal(description.length, 32_000);
    assert.ok(description.endsWith('y…'));
  });

  test('AdditionalText is a template, appended after a blank line; without it the description stands alone', () => {
    const withText = mappingWith({ DescriptionTemplate: 'Body\n', AdditionalText: 'Order {{OrderId}}' });
    assert.equal(render(withText).fields.description, 'Body\n\nOrder order-1');
    assert.equal(render(mappingWith({ DescriptionTemplate: 'Body' })).fields.description, 'Body');
  });

  test('impact and urgency are ServiceNow codes', () => {
    const { fields } = render(mappingWith({ Impact: 'High', Urgency: 'Medium' }));
    assert.equal(fields.impact, '1');
    assert.equal(fields.urgency, '2');
  });

  test('sc_request gets only the fields the table has, and the catalog item', () => {
    const catalogItem = '0123456789abcdef0123456789abcdef';
    const content = render(
      mappingWith({ Table: 'sc_request', Category: 'Access', Subcategory: 'SAP', CatalogItem: catalogItem }),
    );
    assert.equal(content.table, 'sc_request');
    assert.equal(content.catalogItem, catalogItem);
    assert.deepEqual(Object.keys(content.fields).sort(), [
      'description',
      'impact',
      'short_description',
      'urgency',
    ]);
  });

  test('an empty category is not sent', () => {
    assert.ok(!('category' in render(mappingWith({ Category: '' })).fields));
  });

  test('an empty title is refused', () => {
    const mapping = mappingWith({ TitleTemplate: '{{Changes.missing}} ' });
    assert.throws(
      () => render(mapping),
      (error: unknown) => {
        assert.ok(error instanceof TicketTemplateError);
        assert.equal(error.template, 'TitleTemplate');
        assert.match(error.message, /^Resource type "Test_Type": TitleTemplate rendered an empty title/);
        return true;
      },
    );
  });

  test('a changed template for the same resource type is compiled again', () => {
    assert.equal(render(mappingWith({ TitleTemplate: 'first' })).fields.short_description, 'first');
    assert.equal(render(mappingWith({ TitleTemplate: 'second' })).fields.short_description, 'second');
  });
});

describe('template errors', () => {
  test('the compile check reports every broken template by resource type and template name', () => {
    const problems = compileMappings({
      SAP_Role: { TitleTemplate: '{{#ifCond ChangeType "==" "Added"}}x{{/if', DescriptionTemplate: 'fine' },
      AD_Group: {
        TitleTemplate: '{{#ifCond ChangeType "=" "Added"}}x{{/ifCond}}',
        DescriptionTemplate: '{{uppercase Owner.Identifier}}',
        AdditionalText: '{{#if Added}}x{{/each}}',
      },
    });
    assert.equal(problems.length, 4, problems.join('\n'));
    assert.match(
      problems[0]!,
      /^TicketConnector\.ResourceTypeMappings\.SAP_Role\.TitleTemplate: Parse error on line 1 near "/,
    );
    assert.match(
      problems[1]!,
      /^TicketConnector\.ResourceTypeMappings\.AD_Group\.TitleTemplate: ifCond at line 1, column 1: unknown operator "="/,
    );
    assert.match(
      problems[2]!,
      /^TicketConnector\.ResourceTypeMappings\.AD_Group\.DescriptionTemplate: unknown helper "uppercase" at line 1, column 1/,
    );
    assert.match(
      problems[3]!,
      /^TicketConnector\.ResourceTypeMappings\.AD_Group\.AdditionalText: if doesn't match each/,
    );
    assert.ok(
      problems.every((problem) => !problem.includes('\n')),
      'one line per problem',
    );
  });

  test('rendering a template that does not parse fails typed, with the resource type and template name', () => {
    const mapping = mappingWith({ DescriptionTemplate: '{{#each Changes}}' });
    assert.throws(
      () => render(mapping),
      (error: unknown) => {
        assert.ok(error instanceof TicketTemplateError);
        assert.equal(error.template, 'DescriptionTemplate');
        assert.match(
          error.message,
          /^Resource type "Test_Type": DescriptionTemplate cannot be rendered: Parse error on line 1/,
        );
        return true;
      },
    );
  });
});

describe('mapping selection', () => {
  const mappings = mappingsWith({ SAP_Role: {}, AD_Group: {} });

  test('a resource type without a mapping names the mapped ones', () => {
    for (const resourceType of ['Unknown_Type', 'constructor', '__proto__']) {
      assert.throws(
        () => resolveMapping(mappings, resourceType, CONNECTION),
        (error: unknown) => {
          assert.ok(error instanceof MissingMappingError);
          assert.equal(error.name, 'MissingMappingError');
          assert.equal(
            error.message,
            `Resource type "${resourceType}" has no ticket mapping: add it under TicketConnector.ResourceTypeMappings ` +
              '(mapped resource types: AD_Group, SAP_Role)',
          );
          return true;
        },
      );
    }
    assert.throws(() => resolveMapping(mappingsWith({}), 'X', CONNECTION), /\(mapped resource types: none\)/);
  });

  test('an order sent for another connection than the mapping names is refused', () => {
    const expected = (error: unknown) => {
      assert.ok(error instanceof MappingConnectionError);
      assert.ok(error instanceof TicketTemplateError);
      assert.equal(error.name, 'MappingConnectionError');
      assert.equal(error.template, 'mapping');
      assert.equal(
        error.message,
        'Resource type "SAP_Role": the mapping opens tickets through connection "ServiceNowFulfill", but the order ' +
          'was sent for connection "Other" (send it for "ServiceNowFulfill", or change the mapping\'s Connection)',
      );
      return true;
    };
    assert.throws(() => resolveMapping(mappings, 'SAP_Role', 'Other'), expected);
    const mapping = resolveMapping(mappings, 'SAP_Role', CONNECTION);
    assert.throws(
      () =>
        renderTicketContent({
          resourceType: 'SAP_Role',
          mapping,
          order: order(),
          connection: 'Other',
          orderId: 'o',
        }),
      expected,
    );
  });
});
