/**
 * The throttle scopes on the application's real routes (SPEC §7): `products` on the catalog routes,
 * `users` on /api/users/, `auth` on registration and sign-in, counted per IP even for signed-in
 * callers. Each case sends its requests at once against one counter (in memory, or in Redis with
 * REDIS_URL) and expects the exact split: as many answers as the rate allows, 429 for the rest.
 */
import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { users } from '../../src/modules/accounts/tables.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { bearer, makeUser, PASSWORD } from '../helpers/accounts.js';

const RATE = 5;
const AT_ONCE = 12;
const GOOD_PASSWORD = 'Tulip-Orbit-Canvas-42';

const env = {
  THROTTLE_ENABLED: 'true',
  // The global rates stay out of the way: only the scope under test runs out.
  THROTTLE_ANON: '1000/hour',
  THROTTLE_USER: '1000/hour',
  THROTTLE_PRODUCTS: `${RATE}/hour`,
  THROTTLE_USERS: `${RATE}/hour`,
  THROTTLE_AUTH: `${RATE}/hour`,
};

describe('throttle scopes on the real routes', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env });
  });
  afterAll(() => t?.close());

  // Every case calls from addresses of its own, so no case spends another's budget.
  let lastIp = 0;
  const freshIp = () => {
    lastIp++;
    return `10.77.${Math.floor(lastIp / 250)}.${(lastIp % 250) + 1}`;
  };

  const call = (
    method: 'GET' | 'POST',
    url: string,
    ip: string,
    options: { headers?: Record<string, string>; payload?: object } = {},
  ) => t.app.inject({ method, url, remoteAddress: ip, ...options });

  /** A verified user signed in from an address of its own (sign-in is itself `auth`-throttled). */
  async function signedIn(fields: Parameters<typeof makeUser>[1] = {}) {
    const user = await makeUser(t.deps, fields);
    const res = await call('POST', '/api/auth/token/', freshIp(), {
      payload: { username: user.username, password: PASSWORD },
    });
    expect(res.statusCode, res.body).toBe(200);
    return { user, headers: bearer(res.json<{ access: string }>().access) };
  }

  /** Exactly `RATE` answers with `okStatus`; every other one a 429 with Retry-After and DRF's words. */
  function expectSplit(responses: LightMyRequestResponse[], okStatus: number) {
    const statuses = responses.map((r) => r.statusCode);
    expect(
      statuses.filter((s) => s === okStatus),
      JSON.stringify(statuses),
    ).toHaveLength(RATE);
    const refused = responses.filter((r) => r.statusCode !== okStatus);
    expect(refused).toHaveLength(AT_ONCE - RATE);
    for (const res of refused) {
      expect(res.statusCode).toBe(429);
      const wait = Number(res.headers['retry-after']);
      expect(Number.isInteger(wait)).toBe(true);
      expect(wait).toBeGreaterThan(0);
      expect(wait).toBeLessThanOrEqual(3600);
      expect(res.json()).toEqual({ detail: `Request was throttled. Expected available in ${wait} seconds.` });
    }
  }

  it(`products: ${AT_ONCE} catalog requests at once from one address, ${RATE} answered, one counter for every catalog route`, async () => {
    const ip = freshIp();
    const urls = ['/api/products/', '/api/products/?page_size=1', '/api/products/?search=lamp'];
    const responses = await Promise.all(
      Array.from({ length: AT_ONCE }, (_, i) => call('GET', urls[i % urls.length]!, ip)),
    );
    expectSplit(responses, 200);

    // Another catalog route shares the spent counter; a route without the scope does not.
    expect((await call('GET', `/api/products/${randomUUID()}/`, ip)).statusCode).toBe(429);
    expect((await call('GET', '/api/categories/', ip)).statusCode).toBe(200);
    // Another address has its own counter, and so has a signed-in caller (counted per user).
    expect((await call('GET', '/api/products/', freshIp())).statusCode).toBe(200);
    const member = await signedIn();
    expect((await call('GET', '/api/products/', ip, { headers: member.headers })).statusCode).toBe(200);
  });

  it(`users: ${AT_ONCE} requests at once to /api/users/ by one user, ${RATE} answered, counted per user`, async () => {
    const ip = freshIp();
    const staff = await signedIn({ isStaff: true });
    const urls = ['/api/users/', '/api/users/me/', `/api/users/${staff.user.id}/`];
    const responses = await Promise.all(
      Array.from({ length: AT_ONCE }, (_, i) =>
        call('GET', urls[i % urls.length]!, ip, { headers: staff.headers }),
      ),
    );
    expectSplit(responses, 200);

    expect((await call('GET', '/api/users/me/', freshIp(), { headers: staff.headers })).statusCode).toBe(429);
    // The same address, another user: a counter of its own. The spent user's other scopes are whole.
    const other = await signedIn();
    expect((await call('GET', '/api/users/me/', ip, { headers: other.headers })).statusCode).toBe(200);
    expect((await call('GET', '/api/products/', ip, { headers: staff.headers })).statusCode).toBe(200);
  });

  it(`auth: ${AT_ONCE} registrations at once from one address, ${RATE} created, the refused ones write nothing`, async () => {
    const ip = freshIp();
    const tag = randomUUID().slice(0, 8);
    const responses = await Promise.all(
      Array.from({ length: AT_ONCE }, (_, i) =>
        call('POST', '/api/register/', ip, {
          payload: {
            username: `burst_${tag}_${i}`,
            email: `burst.${tag}.${i}@example.com`,
            password: GOOD_PASSWORD,
            first_name: 'Burst',
            last_name: 'Tester',
          },
        }),
      ),
    );
    expectSplit(responses, 201);
    const created = await t.deps.db
      .select({ username: users.username })
      .from(users)
      .where(sql`${users.username} like ${`burst\\_${tag}\\_%`}`);
    expect(created).toHaveLength(RATE);

    const later = await call('POST', '/api/register/', freshIp(), {
      payload: {
        username: `burst_${tag}_later`,
        email: `burst.${tag}.later@example.com`,
        password: GOOD_PASSWORD,
        first_name: 'Burst',
        last_name: 'Tester',
      },
    });
    expect(later.statusCode, later.body).toBe(201);
  });

  it(`auth: counted per address even for signed-in callers (${AT_ONCE} sign-ins at once by two users, ${RATE} answered)`, async () => {
    const ip = freshIp();
    const pair = [await signedIn(), await signedIn()];
    const responses = await Promise.all(
      Array.from({ length: AT_ONCE }, (_, i) => {
        const { user, headers } = pair[i % 2]!;
        return call('POST', '/api/auth/token/', ip, {
          headers,
          payload: { username: user.username, password: PASSWORD },
        });
      }),
    );
    // Counted per user, each of the two would have had its own five.
    expectSplit(responses, 200);

    const elsewhere = await call('POST', '/api/auth/token/', freshIp(), {
      headers: pair[0]!.headers,
      payload: { username: pair[0]!.user.username, password: PASSWORD },
    });
    expect(elsewhere.statusCode).toBe(200);
  });
});
