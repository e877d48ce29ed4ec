/**
 * Acceptance for SPEC §8's cache helper: whole responses keyed by URL and audience,
 * `X-Cache: HIT|MISS`, invalidation by scope, ETag / If-None-Match, and the off switch.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { FastifyPluginAsync, LightMyRequestResponse } from 'fastify';
import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deps } from '../src/deps.js';
import { MemoryCacheStore, RedisCacheStore, type CacheStore } from '../src/platform/cache/store.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { deleteKeys, PrivateRedis, redisServerAvailable } from './helpers/redis.js';

interface Probe {
  counter: number;
  computed: number;
  deps?: Deps;
}

/** GET /probe/cached/ serves `{ value, audience }` through the response cache; POST …/bump/ changes it. */
function probePlugin(probe: Probe): FastifyPluginAsync {
  return (scope) => {
    scope.get(
      '/probe/cached/',
      {
        schema: {
          querystring: Type.Object({}, { additionalProperties: true }),
          response: { 200: Type.Object({ value: Type.Integer(), audience: Type.String() }) },
        },
      },
      (request, reply) => {
        const audience = request.headers['x-audience'] === 'staff' ? 'staff' : 'public';
        return probe.deps!.responseCache.serve(
          request,
          reply,
          { scopes: ['probe'], ttlSeconds: 60, audience },
          () => {
            probe.computed++;
            // `secret` is not in the schema: the serializer must drop it, cached or not.
            return Promise.resolve({ value: probe.counter, audience, secret: 'x' });
          },
        );
      },
    );
    scope.post('/probe/cached/bump/', async () => {
      probe.counter++;
      await probe.deps!.responseCache.invalidate('probe');
      return { value: probe.counter };
    });
    return Promise.resolve();
  };
}

async function startProbe(env: Record<string, string> = {}): Promise<{ t: TestApp; probe: Probe }> {
  const probe: Probe = { counter: 1, computed: 0 };
  const t = await createTestApp({ env, plugins: [probePlugin(probe)] });
  probe.deps = t.deps;
  return { t, probe };
}

const cacheOf = (res: LightMyRequestResponse) => res.headers['x-cache'];

describe('response cache (enabled)', () => {
  let t: TestApp;
  let probe: Probe;
  const get = (url: string, headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'GET', url, headers });
  const bump = () => t.app.inject({ method: 'POST', url: '/probe/cached/bump/' });

  beforeAll(async () => {
    ({ t, probe } = await startProbe());
    expect(t.config.cache.enabled).toBe(true);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('misses first, then hits with the identical body', async () => {
    const first = await get('/probe/cached/?case=first');
    expect(first.statusCode).toBe(200);
    expect(cacheOf(first)).toBe('MISS');
    expect(first.headers['content-type']).toMatch(/^application\/json/);
    expect(first.json()).toEqual({ value: probe.counter, audience: 'public' });

    const computed = probe.computed;
    const second = await get('/probe/cached/?case=first');
    expect(second.statusCode).toBe(200);
    expect(cacheOf(second)).toBe('HIT');
    expect(second.body).toBe(first.body);
    expect(second.headers['content-type']).toBe(first.headers['content-type']);
    expect(probe.computed).toBe(computed);
  });

  it('stores what the route schema serializes (no extra fields)', async () => {
    const miss = await get('/probe/cached/?case=schema');
    const hit = await get('/probe/cached/?case=schema');
    expect(cacheOf(hit)).toBe('HIT');
    for (const res of [miss, hit])
      expect(Object.keys(res.json<object>()).sort()).toEqual(['audience', 'value']);
  });

  it('keys by the full URL: another query string is its own entry', async () => {
    await get('/probe/cached/?case=url&a=1');
    expect(cacheOf(await get('/probe/cached/?case=url&a=1'))).toBe('HIT');
    expect(cacheOf(await get('/probe/cached/?case=url&a=2'))).toBe('MISS');
    expect(cacheOf(await get('/probe/cached/?case=url&a=1&b=1'))).toBe('MISS');
    expect(cacheOf(await get('/probe/cached/?case=url'))).toBe('MISS');
    expect(cacheOf(await get('/probe/cached/?case=url&a=2'))).toBe('HIT');
  });

  it('invalidating the scope makes every entry stale at once', async () => {
    const before = await get('/probe/cached/?case=bump');
    await get('/probe/cached/?case=bump&other=1');
    const staffBefore = await get('/probe/cached/?case=bump', { 'x-audience': 'staff' });
    expect(cacheOf(await get('/probe/cached/?case=bump'))).toBe('HIT');
    const oldValue = before.json<{ value: number }>().value;

    const bumped = await bump();
    expect(bumped.statusCode).toBe(200);
    expect(probe.counter).toBe(oldValue + 1);

    const after = await get('/probe/cached/?case=bump');
    expect(cacheOf(after)).toBe('MISS');
    expect(after.json()).toEqual({ value: oldValue + 1, audience: 'public' });
    expect(cacheOf(await get('/probe/cached/?case=bump'))).toBe('HIT');

    const otherAfter = await get('/probe/cached/?case=bump&other=1');
    expect(cacheOf(otherAfter)).toBe('MISS');
    expect(otherAfter.json<{ value: number }>().value).toBe(oldValue + 1);

    const staffAfter = await get('/probe/cached/?case=bump', { 'x-audience': 'staff' });
    expect(cacheOf(staffAfter)).toBe('MISS');
    expect(staffAfter.json()).toEqual({ value: oldValue + 1, audience: 'staff' });
    expect(staffBefore.json<{ value: number }>().value).toBe(oldValue);
  });

  it('never shares an entry between audiences', async () => {
    const pub = await get('/probe/cached/?case=audience');
    expect(cacheOf(pub)).toBe('MISS');
    expect(pub.json<{ audience: string }>().audience).toBe('public');

    const staff = await get('/probe/cached/?case=audience', { 'x-audience': 'staff' });
    expect(cacheOf(staff)).toBe('MISS');
    expect(staff.json<{ audience: string }>().audience).toBe('staff');

    const pubAgain = await get('/probe/cached/?case=audience');
    expect(cacheOf(pubAgain)).toBe('HIT');
    expect(pubAgain.json<{ audience: string }>().audience).toBe('public');

    const staffAgain = await get('/probe/cached/?case=audience', { 'x-audience': 'staff' });
    expect(cacheOf(staffAgain)).toBe('HIT');
    expect(staffAgain.json<{ audience: string }>().audience).toBe('staff');
    expect(staffAgain.body).toBe(staff.body);
  });

  it('sends an ETag and answers If-None-Match with 304 and no body', async () => {
    const miss = await get('/probe/cached/?case=etag');
    const tag = miss.headers.etag;
    expect(typeof tag).toBe('string');
    expect(tag).not.toBe('');

    const hit = await get('/probe/cached/?case=etag');
    expect(cacheOf(hit)).toBe('HIT');
    expect(hit.headers.etag).toBe(tag);

    const notModified = await get('/probe/cached/?case=etag', { 'if-none-match': String(tag) });
    expect(notModified.statusCode).toBe(304);
    expect(notModified.body).toBe('');

    const stale = await get('/probe/cached/?case=etag', { 'if-none-match': '"something-else"' });
    expect(stale.statusCode).toBe(200);
    expect(stale.body).toBe(miss.body);

    // A change of content is a change of tag: the old one no longer gets a 304.
    await bump();
    const changed = await get('/probe/cached/?case=etag', { 'if-none-match': String(tag) });
    expect(changed.statusCode).toBe(200);
    expect(cacheOf(changed)).toBe('MISS');
    expect(changed.headers.etag).not.toBe(tag);
  });

  it('tags a hit with the ETag stored beside the body: the one @fastify/etag computes for it', async () => {
    const miss = await get('/probe/cached/?case=stored-etag');
    const expected = `"${createHash('sha1').update(miss.body).digest('base64')}"`;
    expect(miss.headers.etag).toBe(expected);
    const hit = await get('/probe/cached/?case=stored-etag');
    expect(cacheOf(hit)).toBe('HIT');
    expect(hit.headers.etag).toBe(expected);
    expect(hit.body).toBe(miss.body);
  });

  it('exposes X-Cache and ETag to browsers (CORS)', async () => {
    const res = await get('/probe/cached/?case=cors', { origin: 'http://example.test' });
    const exposed = String(res.headers['access-control-expose-headers'] ?? '').toLowerCase();
    expect(exposed).toContain('x-cache');
    expect(exposed).toContain('etag');
  });
});

describe('response cache (CACHE_ENABLED=false)', () => {
  let t: TestApp;
  let probe: Probe;
  const get = (url: string, headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'GET', url, headers });

  beforeAll(async () => {
    ({ t, probe } = await startProbe({ CACHE_ENABLED: 'false' }));
    expect(t.config.cache.enabled).toBe(false);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('always misses and always computes', async () => {
    const before = probe.computed;
    for (let i = 0; i < 3; i++) {
      const res = await get('/probe/cached/');
      expect(res.statusCode).toBe(200);
      expect(cacheOf(res)).toBe('MISS');
      expect(res.json()).toEqual({ value: probe.counter, audience: 'public' });
    }
    expect(probe.computed).toBe(before + 3);
  });

  it('shows a change at once, even without invalidation', async () => {
    await get('/probe/cached/?case=change');
    probe.counter += 10;
    const res = await get('/probe/cached/?case=change');
    expect(cacheOf(res)).toBe('MISS');
    expect(res.json<{ value: number }>().value).toBe(probe.counter);
  });

  it('still serializes with the schema and still answers If-None-Match', async () => {
    const res = await get('/probe/cached/?case=etag', { 'x-audience': 'staff' });
    expect(res.json()).toEqual({ value: probe.counter, audience: 'staff' });
    const tag = String(res.headers.etag);
    const again = await get('/probe/cached/?case=etag', { 'x-audience': 'staff', 'if-none-match': tag });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
  });
});

describe('MemoryCacheStore', () => {
  it('incr counts from 0 for a missing key and returns the new value', async () => {
    const store = new MemoryCacheStore();
    expect(await store.incr('gen:a')).toBe(1);
    expect(await store.incr('gen:a')).toBe(2);
    expect(await store.incr('gen:a')).toBe(3);
    expect(await store.incr('gen:b')).toBe(1);
    expect(await store.get('gen:a')).toBe('3');
  });

  it('incr continues from a numeric value that was set', async () => {
    const store = new MemoryCacheStore();
    await store.set('n', '41', 60);
    expect(await store.incr('n')).toBe(42);
    expect(await store.get('n')).toBe('42');
  });

  it('get returns what set stored, null for a missing key', async () => {
    const store = new MemoryCacheStore();
    await store.set('a', 'alpha', 60);
    expect(await store.get('a')).toBe('alpha');
    expect(await store.get('missing')).toBeNull();
  });

  it('set overwrites and stores are independent', async () => {
    const one = new MemoryCacheStore();
    const two = new MemoryCacheStore();
    await one.set('k', 'v1', 60);
    await one.set('k', 'v2', 60);
    expect(await one.get('k')).toBe('v2');
    expect(await two.get('k')).toBeNull();
    expect(await one.ping()).toBe(true);
  });
});

interface StoreUnderTest {
  store: CacheStore;
  close: () => Promise<void> | void;
}

/** The contract both stores keep; `make` gives a fresh, empty store. */
function readsThroughGenerations(make: () => Promise<StoreUnderTest> | StoreUnderTest) {
  it('reads the counters and the entry they point to together; a bump points elsewhere', async () => {
    const { store, close } = await make();
    try {
      const first = await store.getVersioned(['a', 'b'], 'resp:', ':public:/x');
      expect(first).toEqual({ version: 'a.0,b.0', value: null });
      await store.set(`resp:${first.version}:public:/x`, 'body-1', 60);
      expect(await store.getVersioned(['a', 'b'], 'resp:', ':public:/x')).toEqual({
        version: 'a.0,b.0',
        value: Buffer.from('body-1'),
      });
      // Bytes come back as they were stored, whatever their encoding.
      const bytes = Buffer.from([0xff, 0x00, 0xc3, 0xa9, 0x0a]);
      await store.set(`resp:${first.version}:public:/bytes`, bytes, 60);
      expect((await store.getVersioned(['a', 'b'], 'resp:', ':public:/bytes')).value).toEqual(bytes);

      await store.incr('gen:b');
      expect(await store.getVersioned(['a', 'b'], 'resp:', ':public:/x')).toEqual({
        version: 'a.0,b.1',
        value: null,
      });
      expect(await store.getVersioned(['a'], 'resp:', ':public:/x')).toEqual({ version: 'a.0', value: null });
    } finally {
      await close();
    }
  });
}

describe('memory store: an entry read through its generation counters', () => {
  readsThroughGenerations(() => ({ store: new MemoryCacheStore(), close: () => undefined }));
});

// On the machine's Redis (REDIS_URL), else on a redis-server of the test's own.
const redisFor = process.env.REDIS_URL
  ? 'REDIS_URL'
  : redisServerAvailable
    ? 'a private redis-server'
    : 'needs redis-server';

describe.skipIf(!process.env.REDIS_URL && !redisServerAvailable)(
  `redis store (${redisFor}): an entry read through its generation counters`,
  () => {
    let own: PrivateRedis | undefined;
    let url: string;
    beforeAll(async () => {
      own = process.env.REDIS_URL ? undefined : await PrivateRedis.start();
      url = own?.url ?? process.env.REDIS_URL!;
    });
    afterAll(() => own?.stop());

    readsThroughGenerations(() => {
      const redis = new Redis(url);
      const prefix = `test:store:${randomBytes(6).toString('hex')}:`;
      return {
        store: new RedisCacheStore(redis, prefix),
        async close() {
          redis.disconnect();
          await deleteKeys(url, prefix);
        },
      };
    });
  },
);
