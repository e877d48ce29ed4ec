/**
 * At most 5 open streams per user: the sixth is a 429 in DRF's shape, another user is not
 * affected, and a slot comes back when a stream closes (client gone, or ended by the route). In
 * memory within one process; with Redis across processes (two apps sharing a prefix), where a
 * crashed process's slots lapse on their own.
 */
import { Redis } from 'ioredis';
import type { FastifyPluginAsync } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStreamSlots } from '../../../src/platform/events/stream-slots.js';
import { eventStreams, type EventStreams } from '../../../src/platform/http/sse.js';
import { createTestApp, type TestApp } from '../../helpers/app.js';
import { waitFor } from '../../helpers/wait.js';
import { listen, openStream, type OpenStream } from './sse-client.js';
import {
  headerAuthenticator,
  newPrefix,
  redisAvailable,
  silentLog,
  testRedis,
  type TestRedis,
} from './setup.js';

function probe(
  redis: Redis | undefined,
  prefix: string,
  holder: { streams?: EventStreams },
): FastifyPluginAsync {
  // eslint-disable-next-line @typescript-eslint/require-await
  return async (app) => {
    const streams = eventStreams(app, { redis, prefix, log: silentLog, heartbeatMs: 200 });
    holder.streams = streams;
    app.get('/probe/stream/', async (request, reply) => {
      const user = request.principal;
      if (!user) return reply.code(401).send({ detail: 'Authentication credentials were not provided.' });
      const stream = await streams.open(request, reply, { owner: String(user.userId) });
      stream.send({ data: 'open' });
    });
  };
}

async function openAll(base: string, user: number, n: number): Promise<OpenStream[]> {
  const streams = await Promise.all(
    Array.from({ length: n }, () => openStream(`${base}/probe/stream/`, { 'x-user': String(user) })),
  );
  for (const s of streams) expect(s.status).toBe(200);
  await Promise.all(streams.map((s) => s.waitForEvents(1)));
  return streams;
}

async function expectRefused(base: string, user: number) {
  const res = await fetch(`${base}/probe/stream/`, { headers: { 'x-user': String(user) } });
  expect(res.status).toBe(429);
  expect(await res.json()).toEqual({
    detail: 'Too many open event streams: at most 5 per user. Close one and try again.',
  });
}

describe('open streams per user, in memory', () => {
  let t: TestApp;
  let base: string;
  const holder: { streams?: EventStreams } = {};
  beforeAll(async () => {
    t = await createTestApp({
      runJobs: false,
      authenticate: headerAuthenticator,
      plugins: [probe(undefined, '', holder)],
    });
    base = await listen(t.app);
  });
  afterAll(() => t?.close());

  it('refuses a sixth stream of one user with 429 and frees a slot when a stream closes', async () => {
    const streams = await openAll(base, 1, 5);
    await expectRefused(base, 1);
    // Another user has slots of their own.
    const other = await openAll(base, 2, 1);
    streams[0]!.close();
    await waitFor(() => holder.streams!.size === 5, 5000, 'the closed stream to be noticed');
    const again = await openAll(base, 1, 1);
    await expectRefused(base, 1);
    for (const s of [...streams, ...other, ...again]) s.close();
  });
});

describe.skipIf(!redisAvailable)(
  `open streams per user, across processes in Redis${redisAvailable ? '' : ' (skipped: no REDIS_URL and no redis-server)'}`,
  () => {
    let server: TestRedis;
    let redisA: Redis;
    let redisB: Redis;
    let a: TestApp;
    let b: TestApp;
    let baseA: string;
    let baseB: string;
    const prefix = newPrefix();
    const holderA: { streams?: EventStreams } = {};
    const holderB: { streams?: EventStreams } = {};
    beforeAll(async () => {
      server = await testRedis();
      redisA = new Redis(server.url);
      redisB = new Redis(server.url);
      const common = { runJobs: false, authenticate: headerAuthenticator, redisPrefix: prefix };
      a = await createTestApp({ ...common, plugins: [probe(redisA, prefix, holderA)] });
      b = await createTestApp({ ...common, database: a.database, plugins: [probe(redisB, prefix, holderB)] });
      baseA = await listen(a.app);
      baseB = await listen(b.app);
    });
    afterAll(async () => {
      await b?.close();
      await a?.close();
      redisA?.disconnect();
      redisB?.disconnect();
      await server?.cleanup(prefix);
      await server?.close();
    });

    it('counts one user’s streams on every process: 3 on A and 2 on B, the sixth refused on either', async () => {
      const onA = await openAll(baseA, 7, 3);
      const onB = await openAll(baseB, 7, 2);
      await expectRefused(baseA, 7);
      await expectRefused(baseB, 7);
      onB[0]!.close();
      await waitFor(async () => (await redisA.zcard(`${prefix}sse:7`)) === 4, 5000, 'the slot back in Redis');
      const again = await openAll(baseA, 7, 1);
      await expectRefused(baseB, 7);
      for (const s of [...onA, ...onB, ...again]) s.close();
      await waitFor(
        async () =>
          (await redisA.exists(`${prefix}sse:7`)) === 0 || (await redisA.zcard(`${prefix}sse:7`)) === 0,
      );
    });

    it('lets the slots of a process that died without giving them back lapse', async () => {
      const slots = new RedisStreamSlots({ redis: redisA, prefix, max: 2, ttlMs: 300, log: silentLog });
      const first = await slots.acquire('crashed');
      const second = await slots.acquire('crashed');
      expect(first && second).toBeTruthy();
      expect(await slots.acquire('crashed')).toBeNull();
      // Nobody refreshes or releases them (the process is gone): after the lifetime they are free.
      await waitFor(async () => (await slots.acquire('crashed')) !== null, 5000, 'lapsed slots');
    });

    it('keeps a refreshed slot alive past its lifetime', async () => {
      const slots = new RedisStreamSlots({ redis: redisA, prefix, max: 1, ttlMs: 300, log: silentLog });
      const slot = (await slots.acquire('alive'))!;
      for (let i = 0; i < 6; i++) {
        await new Promise((r) => setTimeout(r, 100));
        await slot.refresh();
      }
      expect(await slots.acquire('alive')).toBeNull();
      await slot.release();
      expect(await slots.acquire('alive')).not.toBeNull();
    });
  },
);
