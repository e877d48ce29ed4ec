import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { stringify } from 'yaml';

const require = createRequire(import.meta.url);
const redocBundle = require.resolve('redoc/bundles/redoc.standalone.js');

const REDOC_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Nexus Commerce API — ReDoc</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><div id="redoc"></div>
<script src="redoc.standalone.js"></script><script src="init.js"></script></body></html>`;

// An external script, not an inline one, so the page works under the strict Content-Security-Policy.
const REDOC_INIT = `Redoc.init('/api/schema/', { hideDownloadButton: false }, document.getElementById('redoc'));`;

// ReDoc's sidebar credit loads Redocly's logo from their CDN (which the CSP blocks, with a console error):
// an empty inline image instead keeps the page free of requests to other origins.
const REDOC_CDN_LOGO = 'https://cdn.redoc.ly/redoc/logo-mini.svg';
const BLANK_SVG = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E";

/** Registers the OpenAPI generator; call before any route so that every route is described. */
export async function registerOpenApi(
  app: FastifyInstance,
  info: { version: string; siteUrl: string },
): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Nexus Commerce API',
        version: info.version,
        description:
          'E-commerce backend: accounts, catalog, carts, orders, payments. Errors follow Django REST ' +
          'framework: `{"field": ["message"]}` for validation (400), `{"detail": "…"}` otherwise.',
      },
      servers: [{ url: info.siteUrl }],
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
    },
  });
}

/** `/api/schema/` (JSON, or YAML with `?format=yaml`), Swagger UI and ReDoc, every asset served from here. */
export async function registerDocs(app: FastifyInstance): Promise<void> {
  const noThrottle = { throttle: false as const };
  app.get(
    '/api/schema/',
    {
      config: noThrottle,
      schema: {
        tags: ['documentation'],
        summary: 'This OpenAPI 3.1 document',
        querystring: Type.Object({
          format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('yaml')])),
        }),
      },
    },
    async (request, reply) => {
      const { format } = request.query as { format?: 'json' | 'yaml' };
      if (format === 'yaml') return reply.type('application/yaml').send(stringify(app.swagger()));
      return reply.type('application/json').send(JSON.stringify(app.swagger()));
    },
  );

  // swagger-ui's own routes are registered inside its plugin; mark them unthrottled there.
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/api/docs/')) route.config = { ...route.config, throttle: false };
  });
  await app.register(swaggerUi, {
    routePrefix: '/api/docs/swagger',
    staticCSP: false,
    uiConfig: { deepLinking: true },
  });

  const bundle = (await readFile(redocBundle, 'utf8')).replaceAll(REDOC_CDN_LOGO, BLANK_SVG);
  const docsRoute = { config: noThrottle, schema: { hide: true } };
  app.get('/api/docs/redoc/', docsRoute, (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(REDOC_PAGE),
  );
  app.get('/api/docs/redoc/redoc.standalone.js', docsRoute, (_request, reply) =>
    reply.type('application/javascript').header('cache-control', 'public, max-age=86400').send(bundle),
  );
  app.get('/api/docs/redoc/init.js', docsRoute, (_request, reply) =>
    reply.type('application/javascript').send(REDOC_INIT),
  );
}
