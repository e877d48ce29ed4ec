import type { FastifyInstance } from 'fastify';
import { redactUrl } from '../redact-url.js';

/**
 * One line per answered request, written once the response is sent: method, URL (credentials in
 * the query redacted), status and time taken. Fastify's own logging
 * writes two (incoming and completed), which doubles the cost for no information operators use.
 */
export function logAccess(app: FastifyInstance): void {
  app.addHook('onResponse', (request, reply, done) => {
    request.log.info(
      {
        method: request.method,
        url: redactUrl(request.url),
        statusCode: reply.statusCode,
        responseTime: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request completed',
    );
    done();
  });
}
