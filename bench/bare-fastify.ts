/**
 * F0, the ceiling C0 is measured against: Fastify alone answering `/health/live/` with C0's body
 * and content type, in WEB_CONCURRENCY processes as the server runs (node:cluster), with no logger,
 * no hooks and no plugins. C0's distance from it is what our own layers (request ids, security
 * headers, CORS, ETags, the access log) cost on every request.
 *
 * Started by the bench (bench/server.ts) with PORT, HOST and WEB_CONCURRENCY.
 */
import cluster from 'node:cluster';
import Fastify from 'fastify';

const processes = Number(process.env.WEB_CONCURRENCY ?? 1);

if (processes > 1 && cluster.isPrimary) {
  for (let i = 0; i < processes; i++) cluster.fork();
  const stop = () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  cluster.on('exit', () => {
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
  });
} else {
  const app = Fastify({ logger: false });
  // The same response schema as C0's, so both bodies go through the same compiled serializer.
  const schema = {
    response: {
      200: {
        type: 'object',
        properties: { status: { const: 'ok', type: 'string' } },
        required: ['status'],
      },
    },
  };
  app.get('/health/live/', { schema }, () => ({ status: 'ok' }));
  await app.listen({ port: Number(process.env.PORT ?? 8000), host: process.env.HOST ?? '127.0.0.1' });
  const close = () => void app.close().then(() => process.exit(0));
  process.on('SIGTERM', close);
  process.on('SIGINT', close);
}
