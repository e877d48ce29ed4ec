import { Redis, type RedisOptions } from 'ioredis';

/**
 * A Redis connection that never takes the process down: errors are reported to `onError`
 * and ioredis keeps reconnecting in the background.
 */
export function createRedis(url: string, onError: (err: Error) => void, options: RedisOptions = {}): Redis {
  const redis = new Redis(url, {
    lazyConnect: false,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    ...options,
  });
  redis.on('error', onError);
  return redis;
}

/** Rejects after `ms`; used where a dead Redis would otherwise keep a caller waiting. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function pingRedis(redis: Redis, ms = 1000): Promise<boolean> {
  try {
    return (await withTimeout(redis.ping(), ms, 'redis ping')) === 'PONG';
  } catch {
    return false;
  }
}

/**
 * Closes a connection gracefully: QUIT lets the replies still under way arrive (a bare disconnect
 * rejects them, and a caller that fired and forgot gets an unhandled rejection). Falls back to
 * disconnecting when Redis does not answer in time.
 */
export async function closeRedis(redis: Redis, ms = 1000): Promise<void> {
  if (redis.status === 'end') return;
  try {
    await withTimeout(redis.quit(), ms, 'redis quit');
  } catch {
    redis.disconnect();
  }
}
