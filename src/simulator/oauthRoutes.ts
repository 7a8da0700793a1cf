import formbody from '@fastify/formbody';
import type { FastifyInstance } from 'fastify';
import { sendJson } from './apiErrors';
import type { SimulatedInstance } from './instance';

const ACCESS_DENIED = { error_description: 'access_denied', error: 'server_error' };

/**
 * `POST /oauth_token.do`, form-encoded only: any other body (JSON included) is refused like every other
 * failure, with the same 401 `access_denied`.
 */
export async function registerOAuthRoutes(app: FastifyInstance, instance: SimulatedInstance): Promise<void> {
  app.removeAllContentTypeParsers();
  await app.register(formbody);
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, _body, done) => done(null, undefined));

  app.post('/oauth_token.do', (request, reply) => {
    const form = request.mediaType === 'application/x-www-form-urlencoded' ? request.body : undefined;
    const token =
      typeof form === 'object' && form !== null ? instance.auth.grant(formFields(form)) : undefined;
    return token === undefined ? sendJson(reply, 401, ACCESS_DENIED) : sendJson(reply, 200, token);
  });
}

function formFields(form: object): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(form).map(([name, value]: [string, unknown]) => [
      name,
      typeof value === 'string' ? value : undefined,
    ]),
  );
}
