import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { statementCancelled } from '../db/errors.js';
import { HttpError } from './http-errors.js';
import { validationErrorsToFields } from './validation.js';

function describeClientError(
  err: FastifyError,
  contentType: string | undefined,
): { status: number; detail: string } | undefined {
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        status: 415,
        detail: `Unsupported media type "${contentType?.split(';')[0]?.trim() ?? ''}" in request.`,
      };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, detail: 'Request body is too large (the limit is 1 MiB).' };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, detail: 'JSON parse error - the body is empty.' };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { status: 400, detail: `JSON parse error - ${err.message}` };
  }
  if (err instanceof SyntaxError) return { status: 400, detail: `JSON parse error - ${err.message}` };
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500) return { status, detail: err.message };
  return undefined;
}

/** Every error leaves as DRF-shaped JSON; 500s are logged and show no internals outside development. */
export function installErrorHandler(app: FastifyInstance, { development }: { development: boolean }): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof HttpError) {
      return reply.code(err.statusCode).headers(err.headers).send(err.body);
    }
    if (err.validation) {
      return reply.code(400).send(validationErrorsToFields(err.validation));
    }
    const client = describeClientError(err, request.headers['content-type']);
    if (client) return reply.code(client.status).send({ detail: client.detail });

    if (statementCancelled(err)) {
      request.log.warn({ err }, 'statement cancelled by DATABASE_STATEMENT_TIMEOUT');
      return reply
        .code(503)
        .header('retry-after', '1')
        .send({ detail: 'The database took too long to answer. Try again later.' });
    }
    request.log.error({ err }, 'unhandled error');
    const body: Record<string, unknown> = { detail: 'A server error occurred.' };
    if (development) Object.assign(body, { error: err.message, stack: err.stack?.split('\n') });
    return reply.code(500).send(body);
  });
}

/**
 * Errors the router raises before any hook runs: a path that does not decode (`%E0%A4%A`, `%ZZ`) is
 * a 400; a segment past `maxParamLength` names nothing that exists, so it is DRF's 404.
 */
export function answerFrameworkError(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  reply.header('x-request-id', request.id);
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    void reply.code(404).send({ detail: 'Not found.' });
    return;
  }
  const status = err.code === 'FST_ERR_BAD_URL' ? 400 : (err.statusCode ?? 400);
  const detail = err.code === 'FST_ERR_BAD_URL' ? 'Malformed URL: it does not decode as UTF-8.' : err.message;
  void reply.code(status).send({ detail });
}
