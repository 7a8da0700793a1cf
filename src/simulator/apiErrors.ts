import type { FastifyReply, FastifyRequest } from 'fastify';

/** ServiceNow's JSON content type, byte for byte. */
const JSON_CONTENT_TYPE = 'application/json;charset=UTF-8';

/** An error answered with ServiceNow's envelope: `{"error": {"message", "detail"}, "status": "failure"}`. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly detail: string | null = null,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function sendJson(reply: FastifyReply, statusCode: number, body: unknown): FastifyReply {
  return reply.code(statusCode).header('content-type', JSON_CONTENT_TYPE).send(JSON.stringify(body));
}

export function sendApiError(reply: FastifyReply, error: ApiError): FastifyReply {
  reply.headers(error.headers);
  return sendJson(reply, error.statusCode, {
    error: { message: error.message, detail: error.detail },
    status: 'failure',
  });
}

export const notAuthenticated = () =>
  new ApiError(401, 'User Not Authenticated', 'Required to provide Auth information', {
    'www-authenticate': 'BASIC realm="Service-now"',
  });

/** The platform's answer to a URL no API serves. */
export const unknownResource = () => new ApiError(400, 'Requested URI does not represent any resource');

export const recordNotFound = () =>
  new ApiError(404, 'No Record found', "Record doesn't exist or ACL restricts the record retrieval");

/**
 * The handler of a known API URL called with a method it does not take: the platform answers 405 there (REST API
 * HTTP response codes), where an unknown URL is a 400.
 */
export function refuseMethod(request: FastifyRequest): never {
  throw new ApiError(405, 'Method not Supported', `${request.method} method not supported for API`);
}

export const unreadableRequest = (detail: string) =>
  new ApiError(400, 'Exception while reading request', detail);

export type AclOperation = 'Insert' | 'Update' | 'Delete';

export const aclDenied = (operation: AclOperation) =>
  new ApiError(403, 'Operation Failed', `ACL Exception ${operation} Failed due to security constraints`);

/** The 403 a data policy gives, naming the mandatory fields by their labels. */
export const dataPolicyViolation = (missingLabels: readonly string[]) =>
  new ApiError(
    403,
    'Operation Failed',
    `Data Policy Exception: \n The following fields are mandatory: ${missingLabels.join(', ')}`,
  );
