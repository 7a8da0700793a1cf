import { msToNumber } from '@temporalio/common/lib/time';
import { z } from 'zod';
import { checkSecureEndpoint, type EndpointProblem } from '../http/secureEndpoint';
import { IDENTITY_TABLES, TICKET_TABLES } from '../servicenow/tables';
import { TICKET_OUTCOMES } from '../contract/states';
import {
  DEFAULT_EXPORT_FIELDS,
  exportFieldsProblems,
  ExportFilterError,
  isIdentityTable,
  parseExportFilter,
  splitFilterSetting,
} from '../export/fields';
import { CONNECTION_IDENTIFIER } from '../contract/order';
import { deploymentPart, healthHostSchema, workerBuildIdSchema } from './workerIdentity';

/**
 * The configuration file is compatible with Identity Manager's `appsettings.agent.json`: ServiceNow
 * connections live under `Connections.<Identifier>` with string values, exactly as the reference agent
 * writes them. The connector's own settings live beside them under `TicketConnector`.
 */

/** Keys whose values are never echoed anywhere (reports, logs, errors). */
export const SECRET_KEYS = new Set(['Password', 'ClientSecret', 'ApiKey', 'BearerToken', 'Token', 'Secret']);

const SECRET_NAMES = new Set([...SECRET_KEYS].map((key) => key.toLowerCase()));

/**
 * Whether the setting at this path holds a secret: a secret key's value, or any payload key. Case-insensitive,
 * as .NET configuration matches names.
 */
export function isSecretSetting(path: readonly string[]): boolean {
  const lower = path.map((part) => part.toLowerCase());
  const [last] = lower.slice(-1);
  if (last !== undefined && SECRET_NAMES.has(last)) return true;
  const parent = lower[lower.length - 2];
  return (
    lower.length >= 3 &&
    (parent === 'keys' || parent === 'passwordkeys') &&
    lower[lower.length - 3] === 'encryption'
  );
}

const nonEmpty = (what: string) => z.string().trim().min(1, `must not be empty (expected ${what})`);

function secureUrl(what: string, path?: { pattern: RegExp; expected: string }) {
  return z.string().superRefine((value, ctx) => {
    const check = checkSecureEndpoint(value);
    const problems = check.ok ? [] : check.problems;
    for (const problem of problems) {
      ctx.addIssue({ code: 'custom', message: ENDPOINT_PROBLEMS[problem.kind](what) });
    }
    if (check.url !== undefined && path !== undefined && !path.pattern.test(check.url.pathname)) {
      ctx.addIssue({ code: 'custom', message: `must end with ${path.expected}; expected ${what}` });
    }
  });
}

const ENDPOINT_PROBLEMS: Readonly<Record<EndpointProblem['kind'], (what: string) => string>> = {
  'not-a-url': (what) => `is not a valid URL (expected ${what})`,
  'not-https': (what) =>
    `must use https (plain http is allowed for loopback addresses only); expected ${what}`,
  'credentials-in-url': () => 'must not contain credentials (use Login and Password)',
};

/** The reference writes numbers as strings; accept both, reject anything that is not a whole number in range. */
function integerString(min: number, max: number) {
  return z
    .union([z.string(), z.number()], { error: `must be a whole number from ${min} to ${max}` })
    .transform((value, ctx) => {
      const text = String(value).trim();
      const parsed = /^\d+$/.test(text) ? Number(text) : Number.NaN;
      if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
        ctx.addIssue({ code: 'custom', message: `must be a whole number from ${min} to ${max}` });
        return z.NEVER;
      }
      return parsed;
    });
}

function booleanString() {
  return z
    .union([z.boolean(), z.enum(['true', 'false', 'True', 'False'])], {
      error: 'must be true or false',
    })
    .transform((value) => value === true || value === 'true' || value === 'True');
}

/** Durations as Temporal writes them: `90s`, `1m`, `1 hour`, `2d`, or milliseconds as a number. */
function duration(what: string) {
  return z
    .union([z.string(), z.number()], { error: `must be a duration such as "30s", "5m" or "1h" (${what})` })
    .transform((value, ctx) => {
      let ms: number;
      try {
        ms = msToNumber(value as Parameters<typeof msToNumber>[0]);
      } catch {
        ms = Number.NaN;
      }
      if (!Number.isFinite(ms) || ms <= 0) {
        ctx.addIssue({
          code: 'custom',
          message: `must be a positive duration such as "30s", "5m" or "1h" (${what})`,
        });
        return z.NEVER;
      }
      return ms;
    });
}

/** The reference writes unset values as "" (e.g. `"ClientSecret": ""`): treat them as absent. */
function withoutEmptyStrings(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== ''));
}

const connectionFields = z
  .strictObject({
    // The other APIs (Service Catalog) are found relative to the Table API's path.
    Server: secureUrl('the Table API base URL, e.g. https://instance.service-now.com/api/now/table', {
      pattern: /\/api\/now(\/v[12])?\/table\/?$/,
      expected: '/api/now/table',
    }),
    Login: z.string().optional(),
    Password: z.string().optional(),
    ClientId: z.string().optional(),
    ClientSecret: z.string().optional(),
    OAuth2Url: secureUrl(
      'the OAuth token URL, e.g. https://instance.service-now.com/oauth_token.do',
    ).optional(),
    TicketCookieDirectoryPath: z.string().optional(),
    ResponseSizeLimit: integerString(1, 10_000).default(1000),
  })
  .superRefine(
    (connection, ctx) => {
      // Runs even when other fields failed (see `when`), so the input may hold values of any type.
      const fields = connection as Record<string, unknown>;
      const has = (key: string) => typeof fields[key] === 'string' && fields[key].trim() !== '';
      const oauthKeys = ['ClientId', 'ClientSecret', 'OAuth2Url'] as const;
      const oauthParts = oauthKeys.filter(has).length;
      if (oauthParts > 0 && oauthParts < 3) {
        for (const key of oauthKeys.filter((candidate) => !has(candidate))) {
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: 'is missing: OAuth needs ClientId, ClientSecret and OAuth2Url together',
          });
        }
      }
      // OAuth's client_credentials grant needs no user; every other mode needs both halves of the login.
      if (has('Login') !== has('Password')) {
        ctx.addIssue({
          code: 'custom',
          path: [has('Login') ? 'Password' : 'Login'],
          message: 'is missing: Login and Password go together',
        });
      }
      if (oauthParts === 0 && !has('Login')) {
        ctx.addIssue({
          code: 'custom',
          path: ['Login'],
          message:
            'is missing: set Login and Password (Basic auth) or ClientId, ClientSecret and OAuth2Url (OAuth)',
        });
      }
    },
    // Report missing credentials together with typos elsewhere in the same connection, not one run later.
    { when: (payload) => typeof payload.value === 'object' && payload.value !== null },
  );

const connectionSchema = z.preprocess(withoutEmptyStrings, connectionFields);

const impact = z.enum(['Low', 'Medium', 'High'], { error: 'must be Low, Medium or High' });

const resourceTypeMappingSchema = z
  .strictObject({
    Connection: z.string().regex(CONNECTION_IDENTIFIER, 'must be a connection identifier'),
    Table: z
      .enum(TICKET_TABLES, { error: `must be ${TICKET_TABLES.map((table) => `"${table}"`).join(' or ')}` })
      .default('incident'),
    CallerId: nonEmpty('the caller: a sys_user sys_id or user_name'),
    Category: z.string().optional(),
    Subcategory: z.string().optional(),
    Impact: impact.default('Low'),
    Urgency: impact.default('Low'),
    TitleTemplate: nonEmpty('a Handlebars template for the ticket title'),
    DescriptionTemplate: nonEmpty('a Handlebars template for the ticket description'),
    AdditionalText: z.string().optional(),
    TicketSynchroIsNotAvailable: booleanString().default(false),
    /** For `sc_request`: order this catalog item (`order_now`) instead of inserting the request directly. */
    CatalogItem: z
      .string()
      .regex(/^[0-9a-f]{32}$/, 'must be the sys_id of a catalog item (32 lowercase hex characters)')
      .optional(),
    /**
     * Orders whose Changes carry `Attribute` (a password) are password resets of the ServiceNow user named by
     * `UserAttribute` (in Changes, else Resource: a sys_id or a user_name): they run on the password task queue
     * and never become a ticket.
     */
    Password: z
      .strictObject(
        {
          Attribute: nonEmpty('the order attribute that carries the new password, e.g. InitialPassword'),
          UserAttribute: nonEmpty(
            'the order attribute that names the ServiceNow user (a sys_id or user_name), e.g. Login',
          ),
        },
        { error: 'must be a section with Attribute and UserAttribute' },
      )
      .optional(),
  })
  .refine((mapping) => mapping.CatalogItem === undefined || mapping.Table === 'sc_request', {
    path: ['CatalogItem'],
    message: 'is only used with Table "sc_request"',
  });

/**
 * `TicketConnector.Temporal.Deployment`: which build this worker is. Without `BuildId` the worker uses
 * SNOW_CONNECTOR_BUILD_ID, else the package version plus the git commit when run from a checkout (see
 * resolveWorkerDeployment). With `Versioning` false the worker only reports name and build id (they show in
 * the histories and `temporal worker list`); with true the server routes tasks by deployment version.
 */
const deploymentSchema = z.strictObject(
  {
    Name: deploymentPart('a worker deployment name, e.g. snow-ticket', [
      {
        pattern: /[.:]/,
        message: 'must not contain "." or ":" (the server writes versions as <name>.<buildId>)',
      },
    ]).default('snow-ticket'),
    BuildId: workerBuildIdSchema.optional(),
    Versioning: booleanString().default(false),
  },
  { error: 'must be a section with Name, BuildId and Versioning' },
);

const temporalSchema = z.strictObject({
  Address: nonEmpty('host:port of the Temporal frontend').optional(),
  Namespace: nonEmpty('a Temporal namespace').optional(),
  TaskQueue: nonEmpty('a task queue name').default('servicenow-tickets'),
  // "" counts as unset, as in the reference format: `"BuildId": ""` means the default build id.
  Deployment: z.preprocess(withoutEmptyStrings, deploymentSchema).default(() => deploymentSchema.parse({})),
});

export type DeploymentSettings = z.output<typeof deploymentSchema>;

const pollingSchema = z
  .strictObject({
    FirstCheckAfter: duration('first status check after the ticket is created').default(60_000),
    /** Default: a day while the sweep runs (the per-order poll is then only a safety net), else an hour. */
    MaxInterval: duration('longest wait between two status checks').optional(),
    BackoffCoefficient: z.coerce
      .number({ error: 'must be a number from 1 to 10' })
      .min(1, 'must be at least 1')
      .max(10, 'must be at most 10')
      .default(2),
    Jitter: z.coerce
      .number({ error: 'must be a fraction from 0 to 0.5' })
      .min(0, 'must be at least 0')
      .max(0.5, 'must be at most 0.5')
      .default(0.1),
  })
  .refine((polling) => polling.MaxInterval === undefined || polling.MaxInterval >= polling.FirstCheckAfter, {
    path: ['MaxInterval'],
    message: 'must not be shorter than FirstCheckAfter',
  });

/** The safety poll's longest interval when Polling.MaxInterval is not given: see pollingSchema. */
export const SAFETY_POLL_INTERVAL_MS = { withSweep: 86_400_000, withoutSweep: 3_600_000 } as const;

/**
 * `TicketConnector.Push`: the receiver of ServiceNow's change notifications (a business rule's outbound REST
 * message, deploy/servicenow/). Each request is signed with HMAC-SHA256 over its timestamp and body with
 * `Secret`; requests older or newer than `MaxSkew`, replayed, unsigned, malformed or larger than `MaxBodyBytes`
 * are refused. Run by the worker process when Enabled, or alone with `snow-ticket push-receiver`.
 */
const pushSchema = z
  .strictObject({
    /** Unset: off in a worker, on in `npm start` (which generates the secret); false keeps it off everywhere. */
    Enabled: booleanString().optional(),
    Port: integerString(0, 65_535).default(8235),
    /** Default 127.0.0.1; behind a reverse proxy or in a container, 0.0.0.0. */
    Host: healthHostSchema.default('127.0.0.1'),
    Path: z
      .string()
      .regex(/^\/[A-Za-z0-9/_-]*$/, 'must be a URL path such as /servicenow/ticket-changed')
      .default('/servicenow/ticket-changed'),
    Secret: z
      .string()
      .trim()
      .min(32, 'must be at least 32 characters (e.g. `openssl rand -base64 32`)')
      .optional(),
    MaxSkew: duration("how far a request's timestamp may be from this clock").default(300_000),
    MaxBodyBytes: integerString(256, 10_485_760).default(65_536),
  })
  .refine((push) => push.Enabled !== true || push.Secret !== undefined, {
    path: ['Secret'],
    message: 'is missing: Enabled needs the shared secret the business rule signs with',
  });

export type PushSettings = z.output<typeof pushSchema>;

/**
 * `TicketConnector.Sweep`: one watcher per connection reads the connector's tickets changed since its watermark
 * (less `Overlap`, for clock skew and late commits) every `Interval`, `PageSize` rows a call, and tells the
 * orders whose ticket changed. It catches what push missed; with it, the per-order poll relaxes to a day.
 */
const sweepSchema = z.strictObject({
  Enabled: booleanString().default(true),
  Interval: duration('how often each connection is swept').default(60_000),
  Overlap: duration('how far before the watermark each sweep starts reading').default(120_000),
  PageSize: integerString(1, 10_000).default(200),
});

export type SweepSettings = z.output<typeof sweepSchema>;

const callBudgetSchema = z.strictObject({
  CallsPerSecond: z.coerce
    .number({ error: 'must be a number of calls per second' })
    .positive('must be more than 0')
    .max(1000, 'must be at most 1000'),
  CallsPerHour: integerString(1, 100_000_000),
});

/**
 * `TicketConnector.Budget`: the ServiceNow calls a deployment may make per connection. `Default` applies to every
 * connection without its own entry under `Connections`. `TaskQueueActivitiesPerSecond`, when set, is the
 * server-enforced rate of activities on the task queue, shared by all workers (maxTaskQueueActivitiesPerSecond).
 */
const budgetSchema = z.strictObject({
  Default: callBudgetSchema.default({ CallsPerSecond: 10, CallsPerHour: 20_000 }),
  Connections: z.record(z.string(), callBudgetSchema).default({}),
  /** How many workers share each connection's budget: each worker holds its share. */
  Workers: integerString(1, 1000).default(1),
  TaskQueueActivitiesPerSecond: z.coerce
    .number({ error: 'must be a number of activities per second' })
    .positive('must be more than 0')
    .optional(),
});

export type BudgetSettings = z.output<typeof budgetSchema>;

/** `TicketConnector.Metrics`: Prometheus text on http://Host:Port/metrics (SDK and connector metrics). */
const metricsSchema = z.strictObject({
  Port: integerString(0, 65_535).optional(),
  /** Default 127.0.0.1; a container publishes it with 0.0.0.0. */
  Host: healthHostSchema.default('127.0.0.1'),
});

export type MetricsSettings = z.output<typeof metricsSchema>;

const outcome = z.enum(TICKET_OUTCOMES, { error: 'must be "Executed" or "Errored"' });

/**
 * What a ticket that left the open states means, per table: incident by `state` code, catalog requests by
 * `request_state`. Entries given in the file are merged over these defaults.
 */
export const DEFAULT_OUTCOMES = {
  incident: { '7': 'Executed', '8': 'Errored' },
  sc_request: {
    closed_complete: 'Executed',
    closed_incomplete: 'Errored',
    closed_cancelled: 'Errored',
    closed_rejected: 'Errored',
    closed_skipped: 'Errored',
  },
} as const satisfies Record<(typeof TICKET_TABLES)[number], Record<string, (typeof TICKET_OUTCOMES)[number]>>;

const outcomesSchema = z
  .strictObject({
    incident: z.record(z.string().regex(/^-?\d+$/, 'incident outcomes are keyed by state code'), outcome),
    sc_request: z.record(z.string().regex(/^[a-z_]+$/, 'keyed by request_state value'), outcome),
  })
  .partial()
  .default({})
  .transform((given) => ({
    incident: { ...DEFAULT_OUTCOMES.incident, ...given.incident },
    sc_request: { ...DEFAULT_OUTCOMES.sc_request, ...given.sc_request },
  }));

const remindersSchema = z.strictObject({
  FirstAfter: duration('first work note on a ticket left open this long').optional(),
  Every: duration('a further work note at this interval while the ticket stays open').optional(),
});

const deadlineSchema = z.strictObject({
  After: duration('give up on a ticket left open this long').optional(),
  Outcome: outcome.default('Errored'),
  CancelTicket: booleanString().default(true),
});

const httpAssignmentsSchema = z
  .strictObject({
    UrlTemplate: secureUrl(
      'the Identity Manager endpoint, with {assignmentId}, {orderId}, {connection} or {state} placeholders',
    ),
    Method: z.enum(['POST', 'PUT', 'PATCH'], { error: 'must be POST, PUT or PATCH' }).default('POST'),
    BearerToken: z.string().optional(),
    OAuth2Url: secureUrl('the OAuth token URL of Identity Manager').optional(),
    ClientId: z.string().optional(),
    ClientSecret: z.string().optional(),
    Scope: z.string().optional(),
    Timeout: duration('how long one call may take').default(30_000),
  })
  .superRefine((http, ctx) => {
    const oauth = [http.OAuth2Url, http.ClientId, http.ClientSecret].filter((value) => value !== undefined);
    if (oauth.length > 0 && oauth.length < 3) {
      ctx.addIssue({ code: 'custom', message: 'OAuth needs OAuth2Url, ClientId and ClientSecret together' });
    }
    if (oauth.length === 3 && http.BearerToken !== undefined) {
      ctx.addIssue({ code: 'custom', message: 'set BearerToken or OAuth, not both' });
    }
  });

const assignmentsSchema = z
  .strictObject({
    Store: z.enum(['Ledger', 'Http'], { error: 'must be "Ledger" or "Http"' }).default('Ledger'),
    /** Relative to DataDirectory unless absolute. */
    LedgerFile: nonEmpty('a SQLite file name').default('assignments.sqlite'),
    Http: z.preprocess(withoutEmptyStrings, httpAssignmentsSchema).optional(),
  })
  .refine((assignments) => assignments.Store !== 'Http' || assignments.Http !== undefined, {
    path: ['Http'],
    message: 'is missing: Store "Http" needs Http.UrlTemplate',
  });

/**
 * .NET configuration has no arrays, only sections keyed 0, 1, 2...: that is how an environment override such as
 * `SNOW_CONNECTOR__TicketConnector__Exports__Main__Tables__0` arrives. Such a section is read as the list it stands for.
 */
function indexedList(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const entries: [string, unknown][] = Object.entries(value);
  if (entries.length === 0 || !entries.every(([key]) => /^\d+$/.test(key))) return value;
  return entries.sort(([a], [b]) => Number(a) - Number(b)).map(([, item]) => item);
}

const identityTable = z.enum(IDENTITY_TABLES, {
  error: `must be one of ${IDENTITY_TABLES.join(', ')}`,
});

/**
 * `TicketConnector.Exports.<ConnectionId>`: the CSV export of one connection. Missing for a connection: every
 * default. Fields given for a table replace that table's default columns; filters are `table#encodedQuery`,
 * parsed strictly and checked against the table's dictionary here, so a typo never widens an export.
 */
const exportSchema = z
  .strictObject({
    /** Relative to DataDirectory unless absolute. */
    OutputDirectory: nonEmpty('a folder for the CSV files').default('exports'),
    /** Default: the connection's TicketCookieDirectoryPath, else `<DataDirectory>/cookies`. */
    CookieDirectory: nonEmpty('a folder for the export watermarks (cookies)').optional(),
    Tables: z
      .preprocess(
        indexedList,
        z
          .array(identityTable)
          .min(1, 'must name at least one table')
          .refine((tables) => new Set(tables).size === tables.length, 'must not name a table twice'),
      )
      .default(() => [...IDENTITY_TABLES]),
    Fields: z
      .partialRecord(
        identityTable,
        z.preprocess(indexedList, z.array(z.string({ error: 'field names are strings' }))),
      )
      .superRefine((fields, ctx) => {
        for (const [table, names] of Object.entries(fields)) {
          if (names === undefined || !isIdentityTable(table)) continue;
          for (const problem of exportFieldsProblems(table, names)) {
            ctx.addIssue({ code: 'custom', path: [table], message: problem });
          }
        }
      })
      .default({}),
    Filters: z
      .preprocess(
        indexedList,
        z
          .array(z.string({ error: 'filters are strings written table#encodedQuery' }))
          .superRefine((filters, ctx) => {
            const filtered = new Set<string>();
            filters.forEach((setting, index) => {
              const problem = exportFilterProblem(setting, filtered);
              if (problem !== undefined) ctx.addIssue({ code: 'custom', path: [index], message: problem });
            });
          }),
      )
      .default([]),
    Overlap: duration('how far before the last watermark an incremental export starts reading').default(
      300_000,
    ),
    Complete: booleanString().default(false),
    /** Cells a spreadsheet would run as a formula get a leading `'`; false writes values exactly as read. */
    NeutralizeFormulas: booleanString().default(true),
  })
  .transform((value) => ({
    ...value,
    Fields: Object.fromEntries(
      IDENTITY_TABLES.map((table) => [table, value.Fields[table] ?? DEFAULT_EXPORT_FIELDS[table]]),
    ) as Record<(typeof IDENTITY_TABLES)[number], readonly string[]>,
  }));

/** Why a `table#encodedQuery` filter setting is unusable (naming its table, never its values), or undefined. */
function exportFilterProblem(setting: string, filtered: Set<string>): string | undefined {
  const split = splitFilterSetting(setting);
  if (split === undefined) return 'must be written table#encodedQuery, e.g. sys_user#active=true';
  if (!isIdentityTable(split.table)) {
    return `filter on '${split.table}': the table must be one of ${IDENTITY_TABLES.join(', ')}`;
  }
  const duplicate = filtered.has(split.table);
  filtered.add(split.table);
  try {
    parseExportFilter(split.table, split.query);
  } catch (error) {
    if (error instanceof ExportFilterError) return error.message;
    throw error;
  }
  return duplicate ? `filter on ${split.table}: only one filter per table` : undefined;
}

/** The export settings of a connection without an `Exports` entry. */
export function defaultExportSettings(): ExportSettings {
  return exportSchema.parse({});
}

export type ExportSettings = z.output<typeof exportSchema>;

export const DEFAULT_MAX_CACHED_WORKFLOWS = 100;

const workerSchema = z.strictObject({
  HealthPort: integerString(0, 65_535).optional(),
  /**
   * Workflows kept in memory between their tasks. An evicted order is rebuilt by replaying its history when it
   * next wakes: a bounded cache costs CPU on wake-up, not correctness. Each slot costs about 4 MB of RSS (a cached
   * workflow holds about 1 MiB of heap, and V8 lets the workflow thread's heap grow to a few times its live size
   * before a full collection), whatever the number of orders waiting: 100 keeps 10,000 waiting orders under 1 GiB.
   */
  MaxCachedWorkflows: integerString(0, 1_000_000).default(DEFAULT_MAX_CACHED_WORKFLOWS),
  /** Default 127.0.0.1: only probes on the same host (or in the same container) reach it. */
  HealthHost: healthHostSchema.optional(),
});

/** Key ids travel in every encrypted payload and name Key Vault secrets (letters, digits and dashes only). */
const PAYLOAD_KEY_ID = /^[A-Za-z][A-Za-z0-9-]{0,62}$/;

const payloadKey = z.string().refine((value) => {
  const text = value.trim();
  return /^[A-Za-z0-9+/]+={0,2}$/.test(text) && Buffer.from(text, 'base64').length === 32;
}, 'must be 32 random bytes in base64, e.g. the output of `openssl rand -base64 32`');

/** A browser origin as the Web UI's page sends it: scheme, host and port only (no path, no trailing slash). */
const browserOrigin = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value;
  } catch {
    return false;
  }
}, 'must be an origin such as http://localhost:8233 (scheme, host and port; no path or trailing slash)');

/**
 * A list as an environment override can give it: `A,B` in one variable, or .NET's `Name__0`, `Name__1`.
 */
function listSetting(value: unknown): unknown {
  if (typeof value !== 'string') return indexedList(value);
  return value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

/**
 * `TicketConnector.Encryption.CodecServer`: the HTTP codec server that lets authorised operators read decrypted
 * payloads in the Temporal Web UI (src/codec/server.ts). Token is a secret: every caller presents it, as a
 * bearer token or through the session cookie `/login` sets.
 */
const codecServerSchema = z.strictObject({
  Port: integerString(0, 65_535).default(8234),
  /** Default 127.0.0.1; a container publishes it with 0.0.0.0. */
  Host: healthHostSchema.default('127.0.0.1'),
  Token: z
    .string()
    .trim()
    .min(16, 'must be at least 16 characters (e.g. `openssl rand -base64 32`)')
    .optional(),
  /** The Web UI origins whose pages may call it from the browser (CORS, with credentials). */
  AllowedOrigins: z.preprocess(listSetting, z.array(browserOrigin)).default([]),
  /** When given, only these namespaces (the UI's X-Namespace header) are served. */
  Namespaces: z.preprocess(listSetting, z.array(nonEmpty('a Temporal namespace'))).optional(),
});

export type CodecServerSettings = z.output<typeof codecServerSchema>;

const payloadKeys = () =>
  z
    .record(
      z.string().regex(PAYLOAD_KEY_ID, 'key ids start with a letter and hold only letters, digits and "-"'),
      payloadKey,
    )
    .default({});

/**
 * `TicketConnector.Encryption`: the AES-256-GCM keys of the payload codec. Password resets are always encrypted
 * (with ActivePasswordKey, else ActiveKey); provisioning orders only with EncryptOrders, since every client that
 * starts them (Identity Manager's too) must then use the same codec. Old keys stay listed so that old histories
 * open. PasswordKeys are never given to the codec server: with them, an operator who reads orders in the Web UI
 * still cannot read a password.
 */
const encryptionSchema = z
  .strictObject({
    Keys: payloadKeys(),
    ActiveKey: nonEmpty('the id of the key that seals new payloads').optional(),
    PasswordKeys: payloadKeys(),
    ActivePasswordKey: nonEmpty('the id of the key that seals password resets').optional(),
    EncryptOrders: booleanString().default(false),
    CodecServer: codecServerSchema.default(() => codecServerSchema.parse({})),
  })
  .superRefine((encryption, ctx) => {
    if (encryption.ActiveKey !== undefined && !Object.hasOwn(encryption.Keys, encryption.ActiveKey)) {
      ctx.addIssue({ code: 'custom', path: ['ActiveKey'], message: 'names a key that is not under Keys' });
    }
    const activePassword = encryption.ActivePasswordKey;
    if (activePassword !== undefined && !Object.hasOwn(encryption.PasswordKeys, activePassword)) {
      ctx.addIssue({
        code: 'custom',
        path: ['ActivePasswordKey'],
        message: 'names a key that is not under PasswordKeys',
      });
    }
    // Every payload names its key by id alone: one id, one key.
    for (const id of Object.keys(encryption.PasswordKeys)) {
      if (Object.hasOwn(encryption.Keys, id)) {
        ctx.addIssue({
          code: 'custom',
          path: ['PasswordKeys', id],
          message: 'this key id is also under Keys; give each key its own id',
        });
      }
    }
    if (encryption.EncryptOrders && encryption.ActiveKey === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['ActiveKey'],
        message: 'is missing: EncryptOrders needs an active key',
      });
    }
  });

export type EncryptionSettings = z.output<typeof encryptionSchema>;

const ticketConnectorSchema = z.strictObject({
  Temporal: temporalSchema.default(() => temporalSchema.parse({})),
  Polling: pollingSchema.default(() => pollingSchema.parse({})),
  DataDirectory: nonEmpty('a folder for local state').default('data'),
  Worker: workerSchema.default(() => workerSchema.parse({})),
  Outcomes: outcomesSchema,
  Reminders: remindersSchema.default({}),
  Deadline: deadlineSchema.default(() => deadlineSchema.parse({})),
  Assignments: assignmentsSchema.default(() => assignmentsSchema.parse({})),
  ResourceTypeMappings: z
    .record(z.string().min(1, 'resource type identifiers must not be empty'), resourceTypeMappingSchema)
    .default({}),
  Exports: z.record(z.string(), exportSchema).default({}),
  Encryption: encryptionSchema.default(() => encryptionSchema.parse({})),
  Push: pushSchema.default(() => pushSchema.parse({})),
  Sweep: sweepSchema.default(() => sweepSchema.parse({})),
  Budget: budgetSchema.default(() => budgetSchema.parse({})),
  Metrics: metricsSchema.default(() => metricsSchema.parse({})),
});

/** A text setting that must be given: "is missing" when absent, rather than zod's type message. */
const required = (what: string) =>
  z
    .string({ error: `is missing (expected ${what})` })
    .trim()
    .min(1, `must not be empty (expected ${what})`);

/** A certificate in a file: PEM (certificate and key together, or `KeyFile`) or PFX/PKCS#12 with `Password`. */
const certificateSchema = z.strictObject(
  {
    File: required('a PEM or PFX certificate file'),
    Password: z.string().optional(),
    KeyFile: required('a PEM private key file').optional(),
  },
  { error: 'must be a section with File and, as needed, Password and KeyFile' },
);

/** `EncryptionCertificate`: decrypts `appsettings.encrypted.agent.json` (reference section name). */
export const encryptionCertificateSchema = z.preprocess(withoutEmptyStrings, certificateSchema);

/** `AzureKeyVault`: secrets named by setting path joined with `--`; credentials from DefaultAzureCredential. */
export const azureKeyVaultSchema = z.preprocess(
  withoutEmptyStrings,
  z.strictObject(
    { Vault: secureUrl('the vault URL, e.g. https://<name>.vault.azure.net') },
    { error: 'must be a section with Vault' },
  ),
);

/**
 * `CyberArk`: the Central Credential Provider's REST service. `SettingsFile` (default
 * `appsettings.cyberark.agent.json` beside the settings file) mirrors the settings and names, for each value, the
 * CyberArk object (account) holding it.
 */
export const cyberArkSchema = z.preprocess(
  withoutEmptyStrings,
  z.strictObject(
    {
      Server: secureUrl('the Central Credential Provider, e.g. https://ccp.example.com'),
      ApplicationId: required('the application id (AppID) defined in CyberArk'),
      Safe: required('the safe holding the accounts'),
      Folder: required('a folder of the safe').optional(),
      ClientCertificate: z.preprocess(withoutEmptyStrings, certificateSchema),
      SettingsFile: required('the file naming the CyberArk object of each setting').optional(),
    },
    { error: 'must be a section with Server, ApplicationId, Safe and ClientCertificate' },
  ),
);

export type EncryptionCertificateSettings = z.output<typeof encryptionCertificateSchema>;
export type AzureKeyVaultSettings = z.output<typeof azureKeyVaultSchema>;
export type CyberArkSettings = z.output<typeof cyberArkSchema>;

export const settingsFileSchema = z
  .looseObject({
    Connections: z
      .record(
        z.string().regex(CONNECTION_IDENTIFIER, {
          message:
            'connection identifiers must start with a letter and contain only letters, digits, "." and "-"',
        }),
        connectionSchema,
      )
      .default({}),
    TicketConnector: ticketConnectorSchema.default(() => ticketConnectorSchema.parse({})),
    // Where secrets come from besides this file (see src/credentials); read before the rest is validated.
    EncryptionCertificate: encryptionCertificateSchema.optional(),
    AzureKeyVault: azureKeyVaultSchema.optional(),
    CyberArk: cyberArkSchema.optional(),
  })
  .superRefine((file, ctx) => {
    for (const [resourceType, mapping] of Object.entries(file.TicketConnector.ResourceTypeMappings)) {
      // Own keys only: a mapping naming "constructor" must find a connection of that name, not Object's.
      if (!Object.hasOwn(file.Connections, mapping.Connection)) {
        ctx.addIssue({
          code: 'custom',
          path: ['TicketConnector', 'ResourceTypeMappings', resourceType, 'Connection'],
          message: `names a connection that is not defined under Connections`,
        });
      }
    }
    for (const connection of Object.keys(file.TicketConnector.Exports)) {
      if (!Object.hasOwn(file.Connections, connection)) {
        ctx.addIssue({
          code: 'custom',
          path: ['TicketConnector', 'Exports', connection],
          message: 'names a connection that is not defined under Connections',
        });
      }
    }
  });

export type SettingsFile = z.output<typeof settingsFileSchema>;
