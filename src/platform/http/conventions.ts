import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import FindMyWay, { type HTTPMethod } from 'find-my-way';
import { HttpError, notFound } from '../errors/http-errors.js';
import { requestContext } from '../request-context.js';

const SAFE_REQUEST_ID = /^[\w.:@/+=-]{1,128}$/;

/** RFC 3986's host (a name, IPv4, or a bracketed IPv6 literal) and an optional port. */
const HOST_HEADER = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~-]+)(?::(\d{1,5}))?$/;

/** A `Host` the server can answer: well-formed, with a port that exists. Absent is fine (HTTP/1.0). */
export function saneHost(host: string | undefined): boolean {
  if (host === undefined) return true;
  const match = HOST_HEADER.exec(host);
  return match !== null && (match[1] === undefined || Number(match[1]) <= 65535);
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `Cache-Control: no-store`: the response carries a secret (tokens), for no cache to keep. */
    noStore?: boolean;
  }
  interface FastifyInstance {
    /** `SITE_URL`: absolute links are made from it, never from the request's `Host`. */
    siteUrl: string;
  }
}

/** Takes the caller's `X-Request-Id` when it is sane, so logs can follow a request across services. */
export function requestIdOf(request: { headers: Record<string, string | string[] | undefined> }): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && SAFE_REQUEST_ID.test(given) ? given : randomUUID();
}

function varyWithAuthorization(vary: unknown): string {
  const given = typeof vary === 'string' ? vary : Array.isArray(vary) ? vary.join(', ') : '';
  if (given === '') return 'Authorization';
  return /(^|,)\s*authorization\s*(,|$)/i.test(given) ? given : `${given}, Authorization`;
}

/**
 * SPEC §2's HTTP conventions that are not errors of a route: the request id on every response
 * and in the async context, JSON 404s, and 405 (with `Allow`) for a known path and the wrong method.
 */
export const conventionsPlugin = fp(
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app: FastifyInstance, options: { siteUrl: string }) => {
    app.decorate('siteUrl', options.siteUrl);
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
      if (!saneHost(request.headers.host)) {
        done(new HttpError(400, { detail: 'The Host header is malformed.' }));
        return;
      }
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
    // What a shared cache (a CDN, a proxy) may keep: an answer that depends on the caller is
    // private to it, and one carrying a token is kept by no one.
    app.addHook('onSend', (request, reply, payload, done) => {
      reply.header('vary', varyWithAuthorization(reply.getHeader('vary')));
      if (request.routeOptions.config?.noStore) reply.header('cache-control', 'no-store');
      else if (request.headers.authorization !== undefined && !reply.hasHeader('cache-control')) {
        reply.header('cache-control', 'private');
      }
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

/**
 * A CORS preflight names its origin and method; @fastify/cors answers one that does not in plain
 * text. Registered before it, this answers in DRF's shape.
 */
export function refuseMalformedPreflight(app: FastifyInstance): void {
  app.addHook('onRequest', (request, _reply, done) => {
    const { origin } = request.headers;
    const method = request.headers['access-control-request-method'];
    if (request.method !== 'OPTIONS' || (origin && method)) return done();
    done(
      new HttpError(400, {
        detail: 'Invalid preflight request: Origin and Access-Control-Request-Method are required.',
      }),
    );
  });
}

/**
 * For routes whose body is optional (`POST …/cancel/` with or without a reason): an absent body
 * is validated as `{}`, so a bare POST is not a 400. Use as a `preValidation` hook.
 */
export function absentBodyIsEmpty(request: FastifyRequest, _reply: unknown, done: () => void): void {
  if (request.body === undefined || request.body === null) request.body = {};
  done();
}
