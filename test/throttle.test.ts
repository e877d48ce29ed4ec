import type { FastifyInstance, FastifyRequest } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Authenticator } from '../src/platform/auth.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { PrivateRedis, redisServerAvailable } from './helpers/redis.js';

// eslint-disable-next-line @typescript-eslint/require-await
async function probe(app: FastifyInstance) {
  app.get('/probe/open/', () => ({ ok: true }));
  app.post('/probe/login/', { config: { throttle: { scope: 'auth', perIp: true } } }, () => ({ ok: true }));
  app.get('/probe/payments/', { config: { throttle: { scope: 'payments' } } }, () => ({ ok: true }));
}

/** `X-Test-User: 7` signs the request in as user 7. */
const headerUser: Authenticator = (request: FastifyRequest) => {
  const id = request.headers['x-test-user'];
  return Promise.resolve(typeof id === 'string' ? { userId: Number(id), isStaff: false } : null);
};

const env = {
  THROTTLE_ENABLED: 'true',
  THROTTLE_ANON: '3/minute',
  THROTTLE_USER: '5/minute',
  THROTTLE_AUTH: '2/hour',
  THROTTLE_PAYMENTS: '2/minute',
};

describe('throttling (SPEC §7)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env, plugins: [probe], authenticate: headerUser });
  });
  afterAll(() => t.close());

  const get = (url: string, headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'GET', url, headers });

  it('gives anonymous callers their rate per IP, then 429 with Retry-After and the DRF message', async () => {
    const ip = { 'x-forwarded-for': 'ignored-without-trust-proxy' };
    for (let i = 0; i < 3; i++) expect((await get('/probe/open/', ip)).statusCode).toBe(200);
    const res = await get('/probe/open/');
    expect(res.statusCode).toBe(429);
    const wait = Number(res.headers['retry-after']);
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(60);
    expect(res.json()).toEqual({ detail: `Request was throttled. Expected available in ${wait} seconds.` });
  });

  it('never throttles /health/ or the docs', async () => {
    for (let i = 0; i < 8; i++) {
      expect((await get('/health/')).statusCode).toBe(200);
      expect((await get('/api/schema/')).statusCode).toBe(200);
    }
  });

  it('counts signed-in callers per user, each with the user rate', async () => {
    for (let i = 0; i < 5; i++)
      expect((await get('/probe/open/', { 'x-test-user': '1' })).statusCode).toBe(200);
    expect((await get('/probe/open/', { 'x-test-user': '1' })).statusCode).toBe(429);
    expect((await get('/probe/open/', { 'x-test-user': '2' })).statusCode).toBe(200);
  });

  it('applies a route scope on top of the global rate', async () => {
    const user = { 'x-test-user': '3' };
    expect((await get('/probe/payments/', user)).statusCode).toBe(200);
    expect((await get('/probe/payments/', user)).statusCode).toBe(200);
    expect((await get('/probe/payments/', user)).statusCode).toBe(429);
    // The scope is spent, the user's global budget is not.
    expect((await get('/probe/open/', user)).statusCode).toBe(200);
  });

  it('counts the auth scope per IP even for signed-in callers', async () => {
    const login = (user: string) =>
      t.app.inject({ method: 'POST', url: '/probe/login/', headers: { 'x-test-user': user } });
    expect((await login('10')).statusCode).toBe(200);
    expect((await login('11')).statusCode).toBe(200);
    const res = await login('12');
    expect(res.statusCode).toBe(429);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(60);
  });
});

const sharedRedis = process.env.REDIS_URL ?? (redisServerAvailable ? 'private' : undefined);

describe.skipIf(!sharedRedis)('throttling shared through Redis (needs Redis)', () => {
  let redis: PrivateRedis | undefined;
  let first: TestApp;
  let second: TestApp;
  beforeAll(async () => {
    if (sharedRedis === 'private') redis = await PrivateRedis.start();
    const url = redis?.url ?? process.env.REDIS_URL!;
    first = await createTestApp({
      env: { ...env, REDIS_URL: url, THROTTLE_ANON: '4/minute' },
      plugins: [probe],
    });
    second = await createTestApp({
      env: { ...env, REDIS_URL: url, THROTTLE_ANON: '4/minute' },
      plugins: [probe],
      redisPrefix: first.redisPrefix,
    });
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
    await redis?.stop();
  });

  it('makes two app instances share one counter', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 6; i++) {
      const app = i % 2 === 0 ? first.app : second.app;
      codes.push((await app.inject({ method: 'GET', url: '/probe/open/' })).statusCode);
    }
    expect(codes).toEqual([200, 200, 200, 200, 429, 429]);
  });
});
