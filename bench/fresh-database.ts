import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Config } from '../src/config.js';

/**
 * Where one size's run lives: the variables every child (CLI, server) gets and the same as a
 * config override for what the bench opens in-process (explain, commerce users).
 */
export interface BenchDatabase {
  description: string;
  env: Record<string, string>;
  config: Partial<Config>;
}

/** `--skip-import`: the configured database, as it is. */
export const configuredDatabase = (config: Config): BenchDatabase => ({
  description: config.databaseUrl ? 'the configured PostgreSQL database' : `PGlite in ${config.dataDir}`,
  env: {},
  config: {},
});

const quoteIdentifier = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * A Redis namespace of the fresh database's own, emptied: otherwise the job queue would hand this
 * database's server jobs queued for another database (an earlier size's, an earlier run's, a
 * developer's), and cache generations would be shared with it.
 */
async function freshRedisPrefix(config: Config, name: string): Promise<Record<string, string>> {
  if (!config.redisUrl) return {};
  const prefix = `${config.redisPrefix}${name}:`;
  const redis = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    const pattern = prefix.replace(/[*?[\]\\]/g, '\\$&') + '*';
    for await (const keys of redis.scanStream({ match: pattern, count: 1000 }) as AsyncIterable<string[]>)
      if (keys.length > 0) await redis.unlink(...keys);
  } finally {
    await redis.quit();
  }
  return { REDIS_PREFIX: prefix };
}

/**
 * An empty database for `size`: on PostgreSQL `<configured>_bench_<size>` beside the configured
 * one, dropped first (FORCE: a server killed mid-run may have left sessions on it); on PGlite a new
 * directory. Each size gets its own so that an earlier size's rows, dead tuples and statistics
 * cannot flatter or burden the next; with Redis, an emptied key prefix of its own too. It is left in
 * place afterwards, for a look at what was measured, and replaced by the next run.
 */
export async function freshDatabase(config: Config, size: number, dataRoot: string): Promise<BenchDatabase> {
  if (!config.databaseUrl) {
    const dataDir = path.join(dataRoot, `pglite-${size}`);
    rmSync(dataDir, { recursive: true, force: true });
    mkdirSync(dataDir, { recursive: true });
    const redis = await freshRedisPrefix(config, `bench_${size}`);
    return {
      description: `PGlite in ${dataDir}` + (redis.REDIS_PREFIX ? `, Redis keys ${redis.REDIS_PREFIX}*` : ''),
      env: { DATA_DIR: dataDir, ...redis },
      config: { dataDir, ...(redis.REDIS_PREFIX && { redisPrefix: redis.REDIS_PREFIX }) },
    };
  }
  const url = new URL(config.databaseUrl);
  const configured =
    decodeURIComponent(url.pathname.slice(1)) || decodeURIComponent(url.username) || 'postgres';
  const name = `${configured}_bench_${size}`;
  // PostgreSQL would silently truncate a longer name, and two sizes could then share one database.
  if (Buffer.byteLength(name) > 63) throw new Error(`the database name ${name} is longer than 63 bytes`);
  const client = new pg.Client({ connectionString: config.databaseUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${quoteIdentifier(name)}`);
  } finally {
    await client.end();
  }
  url.pathname = '/' + encodeURIComponent(name);
  const databaseUrl = url.toString();
  const redis = await freshRedisPrefix(config, name);
  return {
    description:
      `PostgreSQL database ${name}` + (redis.REDIS_PREFIX ? `, Redis keys ${redis.REDIS_PREFIX}*` : ''),
    env: { DATABASE_URL: databaseUrl, ...redis },
    config: { databaseUrl, ...(redis.REDIS_PREFIX && { redisPrefix: redis.REDIS_PREFIX }) },
  };
}
