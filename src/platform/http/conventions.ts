import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import FindMyWay, { type HTTPMethod } from 'find-my-way';
import { HttpError, notFound } from '../errors/http-errors.js';
import { requestContext } from '../request-context.js';

const SAFE_REQUEST_ID = /^[\w.:@/+=-]{1,128}$/;

/** Takes the caller's `X-Request-Id` when it is sane, so logs can follow a request across services. */
export function requestIdOf(request: { headers: Record<string, string | string[] | undefined> }): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && SAFE_REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * SPEC §2's HTTP conventions that are not errors of a route: the request id on every response
 * and in the async context, JSON 404s, and 405 (with `Allow`) for a known path and the wrong method.
 */
export const conventionsPlugin = fp(
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app: FastifyInstance) => {
    // A second router that knows only which methods each path takes, to tell 405 from 404.
    const methodsByPath = FindMyWay({ ignoreTrailingSlash: true, ignoreDuplicateSlashes: true });
    app.addHook('onRoute', (route) => {
      const methods = (Array.isArray(route.method) ? route.method : [route.method]).map(
        (m) => m.toUpperCase() as HTTPMethod,
      );
      for (const method of methods) {
        if (method === 'HEAD' || methodsByPath.hasRoute(method, route.url)) continue;
        methodsByPath.on(method, route.url, () => undefined);
      }
    });

    app.addHook('onRequest', (request, reply, done) => {
      reply.header('x-request-id', request.id);
      requestContext.run({ requestId: request.id }, done);
    });

    // A handler can outlive its connection (the client gave up): the server then counts the request
    // as done, and closing would pull the database from under it. Handlers that return a promise are
    // counted here, and closing waits for them.
    let running = 0;
    let onIdle: (() => void) | undefined;
    app.addHook('onRoute', (route) => {
      const handler = route.handler;
      route.handler = function (this: FastifyInstance, ...args: Parameters<typeof handler>) {
        const result: unknown = handler.apply(this, args);
        if (result instanceof Promise) {
          running++;
          result
            .finally(() => {
              running--;
              if (running === 0) onIdle?.();
            })
            .catch(() => undefined); // the rejection itself is Fastify's to handle
        }
        return result;
      };
    });
    app.addHook('onClose', async () => {
      if (running > 0) await new Promise<void>((resolve) => (onIdle = resolve));
    });

    // Once shutdown begins, requests still in flight end their keep-alive connection, so the
    // server can close without waiting for clients' idle sockets to time out.
    let closing = false;
    app.addHook('preClose', (done) => {
      closing = true;
      done();
    });
    app.addHook('onSend', (_request, reply, payload, done) => {
      if (closing) reply.header('connection', 'close');
      done(null, payload);
    });

    app.removeContentTypeParser(['text/plain']);

    app.setNotFoundHandler((request: FastifyRequest) => {
      const path = request.url.split('?')[0]!;
      const allowed = (['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const).filter(
        (method) => methodsByPath.find(method, path) !== null,
      );
      if (allowed.length > 0) {
        throw new HttpError(
          405,
          { detail: `Method "${request.method}" not allowed.` },
          { allow: [...allowed, ...(allowed.includes('GET') ? ['HEAD'] : []), 'OPTIONS'].join(', ') },
        );
      }
      throw notFound();
    });
  },
  { name: 'conventions' },
);
