import path from 'node:path';
import { pino, type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { redactUrl } from './platform/redact-url.js';

export { redactUrl };
import type { Config } from './config.js';
import { modules } from './modules/index.js';
import { anonymous } from './platform/auth.js';
import { ResponseCache } from './platform/cache/response-cache.js';
import { MemoryCacheStore, RedisCacheStore, type CacheStore } from './platform/cache/store.js';
import { openDatabase } from './platform/db/client.js';
import { runMigrations } from './platform/db/migrate.js';
import { createEventBus } from './platform/events/bus.js';
import { idempotencyJobs } from './platform/idempotency/purge.js';
import { BullmqJobQueue } from './platform/jobs/bullmq.js';
import { EagerJobQueue } from './platform/jobs/eager.js';
import type { JobQueue } from './platform/jobs/queue.js';
import { JobRegistry, type JobDefinition } from './platform/jobs/registry.js';
import type { Deps } from './platform/deps.js';
import { createMailer } from './platform/mail/mailer.js';
import { closeRedis, createRedis } from './platform/redis.js';

export type { Deps };

export interface DepsOptions {
  /** Apply migrations after opening the database. */
  migrate?: boolean;
  /** PGlite directory; `null` keeps the embedded database in memory. Default: `<DATA_DIR>/pglite`. */
  pgliteDir?: string | null;
  redisPrefix?: string;
  /** Jobs beyond the modules' own (tests register theirs). */
  extraJobs?: Array<JobDefinition<Deps>>;
  log?: Logger;
  clock?: () => Date;
  onQuery?: (query: string, params: unknown[]) => void;
  /**
   * Overrides `DATABASE_STATEMENT_TIMEOUT` (0 for none): bulk work such as the catalog import may
   * rightly run single statements longer than any request should.
   */
  statementTimeoutMs?: number;
}

interface LoggedRequest {
  method: string;
  url: string;
  host?: string;
  ip?: string;
  headers?: Record<string, unknown>;
  socket?: { remotePort?: number };
}

/**
 * Where log lines go unless a test hands its own stream: in production, stdout through pino's
 * asynchronous destination (a request never waits on the write; lines are written as soon as the
 * previous write is done, not held for a buffer to fill, and pino flushes what is left when the
 * process exits); in development on a terminal, readable lines; otherwise JSON, written at once.
 */
function defaultDestination(config: Config): DestinationStream {
  if (config.nodeEnv === 'production') return pino.destination({ dest: 1, sync: false });
  if (config.nodeEnv === 'development' && process.stdout.isTTY)
    return pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
  return pino.destination({ dest: 1, sync: true });
}

export function createLogger(
  config: Config,
  destination: DestinationStream = defaultDestination(config),
): Logger {
  return pino(
    {
      level: config.logLevel,
      redact: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.new_password'],
      serializers: {
        // Fastify's own request serializer, with credentials in the query redacted from the URL.
        req: (req: LoggedRequest) => ({
          method: req.method,
          url: redactUrl(req.url),
          version: req.headers?.['accept-version'],
          host: req.host,
          remoteAddress: req.ip,
          remotePort: req.socket?.remotePort,
        }),
      },
    },
    destination,
  );
}

export async function buildDeps(config: Config, options: DepsOptions = {}): Promise<Deps> {
  const log = options.log ?? createLogger(config);
  const database = await openDatabase({
    url: config.databaseUrl,
    preparedStatements: config.databasePreparedStatements,
    statementTimeoutMs: options.statementTimeoutMs ?? config.databaseStatementTimeoutMs,
    pgliteDir:
      options.pgliteDir === null ? undefined : (options.pgliteDir ?? path.join(config.dataDir, 'pglite')),
    onQuery: options.onQuery,
  });
  if (options.migrate) await runMigrations(database, config.databaseUrl);

  const redisPrefix = options.redisPrefix ?? config.redisPrefix;
  const redis = config.redisUrl
    ? createRedis(config.redisUrl, (err) => log.warn({ err }, 'redis connection error'), {
        maxRetriesPerRequest: 2,
      })
    : undefined;
  const cache: CacheStore = redis ? new RedisCacheStore(redis, redisPrefix) : new MemoryCacheStore();
  const events = createEventBus({ redis, redisUrl: config.redisUrl, prefix: redisPrefix, log });

  const registry = new JobRegistry<Deps>([
    ...idempotencyJobs,
    ...modules.flatMap((m) => (typeof m.jobs === 'function' ? m.jobs(config) : (m.jobs ?? []))),
    ...(options.extraJobs ?? []),
  ]);
  const jobOptions = config.jobs;
  const jobs: JobQueue<Deps> = config.jobs.eager
    ? new EagerJobQueue(database.db, registry, jobOptions, log)
    : new BullmqJobQueue(database.db, registry, jobOptions, log, config.redisUrl!, `${redisPrefix}bull`);

  const mailer = createMailer(
    {
      from: config.defaultFromEmail,
      ...config.email,
      fileDir: path.join(config.dataDir, 'mail'),
    },
    log,
  );

  const deps: Deps = {
    config,
    log,
    database,
    db: database.db,
    redis,
    redisPrefix,
    cache,
    responseCache: new ResponseCache(cache, config.cache.enabled, log),
    jobs,
    mailer,
    clock: options.clock ?? (() => new Date()),
    events,
    authenticate: anonymous,
    async close() {
      await jobs.stop();
      await events.close();
      mailer.close();
      if (redis) await closeRedis(redis);
      await database.close();
    },
  };
  const withAuth = modules.find((m) => m.authenticator);
  if (withAuth?.authenticator) deps.authenticate = withAuth.authenticator(deps);
  jobs.bind(deps);
  return deps;
}
