import { hash } from 'node:crypto';
import { createRequire } from 'node:module';
import cors from '@fastify/cors';
import etag from '@fastify/etag';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import type { Deps } from './deps.js';
import { modules } from './modules/index.js';
import { authPlugin } from './platform/auth.js';
import { answerFrameworkError, installErrorHandler } from './platform/errors/handler.js';
import { registerHealth } from './platform/health.js';
import { boundedInputPlugin } from './platform/http/bounded-input.js';
import { storableDateFormats } from './platform/http/formats.js';
import { conventionsPlugin, refuseMalformedPreflight, requestIdOf } from './platform/http/conventions.js';
import { logAccess } from './platform/http/access-log.js';
import { registerSecurityHeaders } from './platform/http/security-headers.js';
import { registerDocs, registerOpenApi } from './platform/openapi.js';
import { throttlePlugin } from './platform/throttle.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

export const BODY_LIMIT = 1024 * 1024;

export interface AppOptions {
  /** Extra routes, registered after the modules' (tests use it for probe routes). */
  plugins?: FastifyPluginAsync[];
}

/** A hop count as the function Fastify makes of one (its types take no number). */
function trustProxyOption(trust: Deps['config']['trustProxy']) {
  return typeof trust === 'number' ? (_address: string, hop: number) => hop < trust : trust;
}

/** The HTTP application: platform plugins, then every module's routes. Does not listen. */
export async function buildApp(deps: Deps, options: AppOptions = {}): Promise<FastifyInstance> {
  const { config } = deps;
  // Fastify's own logger type is narrower than pino's; the instance is the same.
  const loggerInstance: FastifyBaseLogger = deps.log;
  const app: FastifyInstance = Fastify({
    loggerInstance,
    // One access line per request (`logAccess`), not Fastify's two.
    disableRequestLogging: true,
    bodyLimit: BODY_LIMIT,
    trustProxy: trustProxyOption(config.trustProxy),
    genReqId: requestIdOf,
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: 500 },
    // `verbose` hands the failing schema to the error mapper, so a field's `x-error` can word its message.
    ajv: {
      customOptions: {
        allErrors: true,
        coerceTypes: false,
        removeAdditional: true,
        verbose: true,
        keywords: ['x-error'],
      },
      onCreate: storableDateFormats,
    },
    return503OnClosing: true,
    // The router's own refusals (a malformed percent-escape, an over-long segment) in DRF's shapes.
    frameworkErrors: answerFrameworkError,
  });

  logAccess(app);
  installErrorHandler(app, { development: config.nodeEnv === 'development' });
  await app.register(conventionsPlugin, { siteUrl: config.siteUrl });
  await app.register(boundedInputPlugin);
  registerSecurityHeaders(app, {
    // No upgrade-insecure-requests: development and private deployments serve plain HTTP.
    contentSecurityPolicy: {
      directives: { 'worker-src': ["'self'", 'blob:'], 'upgrade-insecure-requests': null },
    },
  });
  refuseMalformedPreflight(app);
  await app.register(cors, {
    origin: config.corsOrigins.includes('*') ? true : config.corsOrigins,
    exposedHeaders: ['x-request-id', 'x-cache', 'etag', 'retry-after', 'idempotent-replayed'],
  });
  // One-shot hashing: the same SHA-1 as the plugin's default without a Hash object per response.
  await app.register(etag, { hashFn: (payload: string | Buffer) => hash('sha1', payload, 'base64') });
  await registerOpenApi(app, { version, siteUrl: config.siteUrl });
  await app.register(authPlugin, { authenticate: deps.authenticate });
  await app.register(throttlePlugin, {
    ...config.throttle,
    redis: deps.redis,
    prefix: deps.redisPrefix,
    userIdOf: (request) => (request.principal ? String(request.principal.userId) : null),
  });

  registerHealth(app, {
    db: () => deps.database.ping(),
    cache: () => deps.cache.ping(),
    queue: () => deps.jobs.ping(),
  });
  await registerDocs(app);
  for (const module of modules) {
    if (module.routes) await app.register((scope) => module.routes!(scope, deps));
  }
  for (const plugin of options.plugins ?? []) await app.register(plugin);
  await app.ready();
  return app;
}
