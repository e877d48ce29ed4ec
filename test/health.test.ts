import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app.js';
import { PrivateRedis, redisServerAvailable } from './helpers/redis.js';
import { waitFor } from './helpers/wait.js';

describe.skipIf(!redisServerAvailable)('/health/ follows its backends (needs redis-server)', () => {
  let redis: PrivateRedis;
  let t: TestApp;
  beforeAll(async () => {
    redis = await PrivateRedis.start();
    t = await createTestApp({ env: { REDIS_URL: redis.url, JOBS_EAGER: 'false' } });
  });
  afterAll(async () => {
    await t?.close();
    await redis?.stop();
  });

  const health = async () => {
    const res = await t.app.inject({ method: 'GET', url: '/health/' });
    return { status: res.statusCode, body: res.json() };
  };

  it('is ok, then 503 degraded while Redis is down, then ok again', async () => {
    expect(await health()).toMatchObject({
      status: 200,
      body: { status: 'ok', db: true, cache: true, queue: true },
    });

    await redis.stop();
    const down = await health();
    expect(down).toMatchObject({
      status: 503,
      body: { status: 'degraded', db: true, cache: false, queue: false },
    });
    expect(down.body.elapsed_ms).toEqual(expect.any(Number));

    await redis.start();
    await waitFor(async () => (await health()).status === 200, 10_000, 'health to recover');
  });
});
