import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { buildDeps, type Deps } from '../../src/deps.js';
import type { Authenticator } from '../../src/platform/auth.js';
import { BullmqJobQueue } from '../../src/platform/jobs/bullmq.js';
import type { JobDefinition } from '../../src/platform/jobs/registry.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { deleteKeys } from './redis.js';

export interface TestAppOptions {
  /** Environment on top of the test defaults (and of DATABASE_URL / REDIS_URL from the outside). */
  env?: Record<string, string | undefined>;
  plugins?: FastifyPluginAsync[];
  extraJobs?: Array<JobDefinition<Deps>>;
  clock?: () => Date;
  /** Share another app's database (two processes on one database). */
  database?: TestDatabase;
  /**
   * Embedded mode: PGlite on disk in this directory instead of a new one in memory, so apps opened
   * one after another share one database (migrated by the first). The caller removes the directory.
   */
  pgliteDir?: string;
  /** Share another app's Redis keys (two processes on one Redis). */
  redisPrefix?: string;
  onQuery?: (query: string, params: unknown[]) => void;
  /** Replaces the application's authenticator (platform tests have no accounts module). */
  authenticate?: Authenticator;
  /**
   * Run jobs as a deployment would (default true): the outbox timer, and with a queue a worker in
   * this process. Tests that drive the job machinery themselves turn it off.
   */
  runJobs?: boolean;
}

export interface TestApp {
  app: FastifyInstance;
  deps: Deps;
  config: Config;
  database: TestDatabase;
  redisPrefix: string;
  close(): Promise<void>;
}

export function testConfig(env: Record<string, string | undefined> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    DATA_DIR: env.DATA_DIR ?? mkdtempSync(path.join(tmpdir(), 'nexus-test-')),
    SECRET_KEY: 'test-secret-key-that-is-long-enough-0123456789',
    DATABASE_URL: process.env.DATABASE_URL,
    REDIS_URL: process.env.REDIS_URL,
    THROTTLE_ENABLED: 'false',
    JOB_POLL_INTERVAL: '200ms',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...env,
  });
}

/** The real application on a database and Redis keys of its own; `close` removes both. */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const ownsDatabase = !options.database;
  const database = options.database ?? (await createTestDatabase());
  const config = testConfig({ ...options.env, DATABASE_URL: database.url ?? options.env?.DATABASE_URL });
  const redisPrefix = options.redisPrefix ?? `test:${randomBytes(6).toString('hex')}:`;
  const deps = await buildDeps(config, {
    migrate: true,
    pgliteDir: options.pgliteDir ?? null,
    redisPrefix,
    extraJobs: options.extraJobs,
    clock: options.clock,
    onQuery: options.onQuery,
  });
  if (options.authenticate) deps.authenticate = options.authenticate;
  const app = await buildApp(deps, { plugins: options.plugins });
  if (options.runJobs !== false) {
    if (deps.jobs instanceof BullmqJobQueue) deps.jobs.startWorker(2);
    deps.jobs.start({ periodic: false });
  }
  return {
    app,
    deps,
    config,
    database,
    redisPrefix,
    async close() {
      await app.close();
      await deps.close();
      if (config.redisUrl && !options.redisPrefix) await deleteKeys(config.redisUrl, redisPrefix);
      if (ownsDatabase) await database.drop();
      rmSync(config.dataDir, { recursive: true, force: true });
    },
  };
}
