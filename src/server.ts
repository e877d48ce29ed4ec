import cluster from 'node:cluster';
import type { FastifyPluginAsync } from 'fastify';
import { buildApp } from './app.js';
import type { Config } from './config.js';
import { buildDeps, createLogger } from './deps.js';
import { configOrExit, exitOnSignal } from './lifecycle.js';
import { modules } from './modules/index.js';
import { openDatabase } from './platform/db/client.js';
import { BullmqJobQueue } from './platform/jobs/bullmq.js';
import { runMigrations } from './platform/db/migrate.js';

export interface StartOptions {
  /** Extra routes (tests use it to serve a slow probe route). */
  plugins?: FastifyPluginAsync[];
}

/** One HTTP process: build, listen, and on SIGTERM/SIGINT finish in-flight requests and close everything. */
async function serve(
  config: Config,
  options: StartOptions,
  { migrate }: { migrate: boolean },
): Promise<void> {
  const deps = await buildDeps(config, { migrate });
  if (migrate) for (const module of modules) await module.onStart?.(deps);
  const app = await buildApp(deps, options);
  // The API process runs the jobs itself in eager mode, and also with a queue on the embedded
  // database, which no separate worker process can open.
  const runsJobs = deps.jobs.mode === 'eager' || deps.database.kind === 'pglite';
  if (deps.jobs instanceof BullmqJobQueue && runsJobs) deps.jobs.startWorker(config.jobs.workerConcurrency);
  deps.jobs.start({ periodic: runsJobs });
  await app.listen({ port: config.port, host: config.host });

  exitOnSignal(deps.log, config.shutdownTimeoutMs, 'finishing in-flight requests', async () => {
    await app.close();
    await deps.close();
  });
}

/** The primary migrates once and forks `WEB_CONCURRENCY` HTTP processes sharing the port. */
async function primary(config: Config): Promise<void> {
  const log = createLogger(config);
  const handle = await openDatabase({ url: config.databaseUrl });
  await runMigrations(handle, config.databaseUrl);
  await handle.close();
  const startDeps = await buildDeps(config);
  for (const module of modules) await module.onStart?.(startDeps);
  await startDeps.close();

  for (let i = 0; i < config.webConcurrency; i++) cluster.fork();
  let stopping = false;
  cluster.on('exit', (worker, code) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    log.error({ pid: worker.process.pid, code }, 'HTTP process died; starting another');
    cluster.fork();
  });
  const stop = () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  log.info({ processes: config.webConcurrency, port: config.port }, 'API started');
}

export async function startServer(options: StartOptions = {}): Promise<void> {
  const config = configOrExit();
  if (config.webConcurrency === 1) return serve(config, options, { migrate: true });
  if (cluster.isPrimary) return primary(config);
  return serve(config, options, { migrate: false });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  startServer().catch((err: unknown) => {
    process.stderr.write(
      `Failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  });
}
