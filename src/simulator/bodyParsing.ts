import type { FastifyInstance } from 'fastify';

/**
 * JSON bodies as the platform reads them: a request with `Content-Type: application/json` and no body (a
 * DELETE, a GET, an action POST) is a request without a body, not a bad one. Many HTTP clients send that header
 * on every call, and fastify's own parser would answer them 400 "Body cannot be empty". Non-empty bodies keep
 * fastify's parser, with its refusal of `__proto__` and `constructor.prototype` keys.
 */
export function acceptBodilessJson(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    // parseAs 'string' hands over a string; the declared type also allows a Buffer.
    const text = body.toString();
    if (text === '') done(null, undefined);
    else void parseJson(request, text, done);
  });
}
