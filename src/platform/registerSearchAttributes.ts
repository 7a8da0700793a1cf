import { isGrpcServiceError, type Connection } from '@temporalio/client';
import type { SearchAttributeType } from '@temporalio/common';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { customSearchAttributes } from '../contract/searchAttributes';

function indexedValueType(type: SearchAttributeType) {
  const encoded = encodeSearchAttributeIndexedValueType(type);
  if (encoded === undefined) throw new TypeError(`No indexed value type for search attribute type ${type}`);
  return encoded;
}

// gRPC status codes (google.rpc.Code); @grpc/grpc-js is only a transitive dependency.
const ALREADY_EXISTS = 6;
const UNIMPLEMENTED = 12;

function grpcCode(error: unknown): number | undefined {
  return isGrpcServiceError(error) ? error.code : undefined;
}

async function registeredNames(connection: Connection, namespace: string): Promise<Set<string>> {
  try {
    const listed = await connection.operatorService.listSearchAttributes({ namespace });
    return new Set([
      ...Object.keys(listed.customAttributes ?? {}),
      ...Object.keys(listed.systemAttributes ?? {}),
    ]);
  } catch (error) {
    // The time-skipping test server can add search attributes but cannot list them.
    if (grpcCode(error) === UNIMPLEMENTED) return new Set();
    throw error;
  }
}

/**
 * Registers the connector's search attributes, skipping those that exist. A persisted dev server ignores
 * `--search-attribute` for a namespace it already has, so this runs on every start instead. Several
 * workers may race here: "already exists" counts as success.
 */
export async function registerSearchAttributes(connection: Connection, namespace: string): Promise<string[]> {
  const known = await registeredNames(connection, namespace);
  const added: string[] = [];
  for (const key of customSearchAttributes.filter((candidate) => !known.has(candidate.name))) {
    try {
      await connection.operatorService.addSearchAttributes({
        namespace,
        searchAttributes: { [key.name]: indexedValueType(key.type) },
      });
      added.push(key.name);
    } catch (error) {
      if (grpcCode(error) !== ALREADY_EXISTS) throw error;
    }
  }
  return added;
}
