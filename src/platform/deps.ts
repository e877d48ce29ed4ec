import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Authenticator } from './auth.js';
import type { ResponseCache } from './cache/response-cache.js';
import type { CacheStore } from './cache/store.js';
import type { DatabaseHandle, Db } from './db/client.js';
import type { EventBus } from './events/bus.js';
import type { JobQueue } from './jobs/queue.js';
import type { Mailer } from './mail/mailer.js';

/** Everything the application needs from the outside world, built once per process and passed in. */
export interface Deps {
  config: Config;
  log: Logger;
  database: DatabaseHandle;
  db: Db;
  /** Shared connection for cache and rate limits; absent in embedded mode. */
  redis: Redis | undefined;
  /** Prepended to every Redis key (`REDIS_PREFIX`), so several deployments or test runs can share one Redis. */
  redisPrefix: string;
  cache: CacheStore;
  responseCache: ResponseCache;
  jobs: JobQueue<Deps>;
  mailer: Mailer;
  clock: () => Date;
  /** Messages for live streams (SSE), published after commit: Redis pub/sub with `REDIS_URL`, else in-process. */
  events: EventBus;
  authenticate: Authenticator;
  close(): Promise<void>;
}
