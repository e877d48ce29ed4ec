import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';

export interface HealthChecks {
  db: () => Promise<boolean>;
  cache: () => Promise<boolean>;
  queue: () => Promise<boolean>;
}

const HealthBody = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  db: Type.Boolean(),
  cache: Type.Boolean(),
  queue: Type.Boolean(),
  elapsed_ms: Type.Number(),
});

/**
 * `/health/`: 200 when the database, the cache and the job queue all answer, else 503.
 * `/health/live/`: 200 while the process serves at all (a liveness probe; also the benchmark's ceiling).
 */
export function registerHealth(app: FastifyInstance, checks: HealthChecks): void {
  app.get(
    '/health/live/',
    {
      config: { throttle: false },
      schema: {
        tags: ['operations'],
        summary: 'Liveness: the process answers (checks nothing else)',
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    () => ({ status: 'ok' as const }),
  );

  app.get(
    '/health/',
    {
      config: { throttle: false },
      schema: {
        tags: ['operations'],
        summary: 'Health of the database, the cache and the job queue',
        response: { 200: HealthBody, 503: HealthBody },
      },
    },
    async (_request, reply) => {
      const started = performance.now();
      const [db, cache, queue] = await Promise.all([checks.db(), checks.cache(), checks.queue()]);
      const ok = db && cache && queue;
      const elapsed_ms = Math.round((performance.now() - started) * 100) / 100;
      return reply
        .code(ok ? 200 : 503)
        .send({ status: ok ? 'ok' : 'degraded', db, cache, queue, elapsed_ms });
    },
  );
}
