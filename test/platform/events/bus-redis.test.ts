/**
 * The Redis event bus (REDIS_URL; else a private redis-server; else skipped): a message published
 * on app B's bus reaches a subscriber of app A when both share a Redis prefix, and not an app under
 * another prefix; one subscriber connection carries every channel; after unsubscribing nothing
 * arrives; the subscriber connection comes back after Redis restarts; publishing while Redis is
 * down resolves (logged, not thrown).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisEventBus } from '../../../src/platform/events/bus.js';
import { createTestApp, type TestApp } from '../../helpers/app.js';
import { PrivateRedis, redisServerAvailable } from '../../helpers/redis.js';
import { waitFor } from '../../helpers/wait.js';
import { newPrefix, redisAvailable, silentLog, testRedis, type TestRedis } from './setup.js';

describe.skipIf(!redisAvailable)(
  `Redis event bus across processes${redisAvailable ? '' : ' (skipped: no REDIS_URL and no redis-server)'}`,
  () => {
    let server: TestRedis;
    let a: TestApp;
    let b: TestApp;
    let elsewhere: TestApp;
    const prefix = newPrefix();
    beforeAll(async () => {
      server = await testRedis();
      const env = { REDIS_URL: server.url };
      a = await createTestApp({ runJobs: false, env, redisPrefix: prefix });
      b = await createTestApp({ runJobs: false, env, redisPrefix: prefix, database: a.database });
      elsewhere = await createTestApp({
        runJobs: false,
        env,
        redisPrefix: newPrefix(),
        database: a.database,
      });
    });
    afterAll(async () => {
      await elsewhere?.close();
      await b?.close();
      await a?.close();
      await server?.cleanup(prefix);
      await server?.close();
    });

    it('carries a message published on B to a subscriber on A, under the shared prefix only', async () => {
      expect(a.deps.events.kind).toBe('redis');
      const onA: unknown[] = [];
      const onElsewhere: unknown[] = [];
      const offA = await a.deps.events.subscribe('order:42', (m) => void onA.push(m));
      const offElsewhere = await elsewhere.deps.events.subscribe('order:42', (m) => void onElsewhere.push(m));
      const started = Date.now();
      await b.deps.events.publish('order:42', { id: 5, order: '42', from: 'pending', to: 'confirmed' });
      await waitFor(() => onA.length === 1, 1000, 'the message on A');
      expect(Date.now() - started).toBeLessThan(1000);
      expect(onA).toEqual([{ id: 5, order: '42', from: 'pending', to: 'confirmed' }]);
      await new Promise((r) => setTimeout(r, 100));
      expect(onElsewhere).toEqual([]);
      await offA();
      await offElsewhere();
    });

    it('multiplexes channels on one connection and stops delivering after the last unsubscribe', async () => {
      const seen: string[] = [];
      const off1 = await a.deps.events.subscribe('c1', (m) => void seen.push(`1:${String(m.n)}`));
      const off1b = await a.deps.events.subscribe('c1', (m) => void seen.push(`1b:${String(m.n)}`));
      const off2 = await a.deps.events.subscribe('c2', (m) => void seen.push(`2:${String(m.n)}`));
      const probe = new Redis(server.url);
      try {
        const channels = await probe.pubsub('CHANNELS', `${prefix}ev:*`);
        expect(channels.sort()).toEqual([`${prefix}ev:c1`, `${prefix}ev:c2`]);
        // One SUBSCRIBE per channel however many handlers, both on one connection.
        expect(await probe.pubsub('NUMSUB', `${prefix}ev:c1`, `${prefix}ev:c2`)).toEqual([
          `${prefix}ev:c1`,
          1,
          `${prefix}ev:c2`,
          1,
        ]);
        const clients = (await probe.client('LIST')) as string;
        expect(clients).toMatch(/ sub=2 /);
        await b.deps.events.publish('c1', { n: 1 });
        await b.deps.events.publish('c2', { n: 2 });
        await waitFor(() => seen.length === 3);
        expect(seen.sort()).toEqual(['1:1', '1b:1', '2:2']);
        await off1();
        await off1b();
        await off2();
        await waitFor(async () => (await probe.pubsub('CHANNELS', `${prefix}ev:*`)).length === 0);
        await b.deps.events.publish('c1', { n: 3 });
        await new Promise((r) => setTimeout(r, 100));
        expect(seen).toHaveLength(3);
      } finally {
        probe.disconnect();
      }
    });
  },
);

describe.skipIf(!redisServerAvailable)(
  `Redis event bus through a restart of Redis${redisServerAvailable ? '' : ' (skipped: no redis-server)'}`,
  () => {
    let server: PrivateRedis;
    let publisher: Redis;
    let bus: RedisEventBus;
    beforeAll(async () => {
      server = await PrivateRedis.start();
      publisher = new Redis(server.url, { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
      publisher.on('error', () => undefined);
      bus = new RedisEventBus({
        redis: publisher,
        url: server.url,
        prefix: 'p:',
        log: silentLog,
        timeoutMs: 500,
      });
    });
    afterAll(async () => {
      await bus?.close();
      publisher?.disconnect();
      await server?.stop();
    });

    it('publishes without throwing while Redis is down, and subscribes again once it is back', async () => {
      const seen: unknown[] = [];
      await bus.subscribe('live', (m) => void seen.push(m));
      await server.stop();
      await expect(bus.publish('live', { n: 'lost' })).resolves.toBeUndefined();
      await server.start();
      // ioredis reconnects the subscriber and subscribes again on its own.
      await waitFor(
        async () => {
          await bus.publish('live', { n: 'back' });
          return seen.length > 0;
        },
        15_000,
        'a message after the restart',
      );
      expect(seen[0]).toEqual({ n: 'back' });
    });
  },
);
