/**
 * `Idempotency-Key` on `POST /api/orders/` (SPEC §5): one order per key and body, however often and
 * however concurrently it is sent; another body is a 422; keys are per user; a refused request is
 * not kept; a key is forgotten after 24 h.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/platform/db/client.js';
import { bearer, signedInUser, tokensFor } from '../helpers/accounts.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { makeVariant, orderBody, stockOf } from '../helpers/commerce.js';

const postgres = Boolean(process.env.DATABASE_URL);

describe('Idempotency-Key on checkout', () => {
  let t: TestApp;
  let now = new Date('2026-06-01T12:00:00Z');
  let buyer: Awaited<ReturnType<typeof signedInUser>>;
  beforeAll(async () => {
    t = await createTestApp({ clock: () => now });
    buyer = await signedInUser(t.app, t.deps);
  });
  afterAll(() => t.close());

  const post = (app: TestApp, headers: Record<string, string>, key: string, body: object) =>
    app.app.inject({
      method: 'POST',
      url: '/api/orders/',
      headers: { ...headers, 'idempotency-key': key },
      payload: body,
    });
  const ordersOf = async (userId: number) =>
    (
      await queryRows<{ n: number }>(
        t.deps.db,
        sql`SELECT count(*)::int AS n FROM orders WHERE user_id = ${userId}`,
      )
    )[0]!.n;

  it('answers the same key and body with the first order, replayed, and takes the stock once', async () => {
    const { variant } = await makeVariant(t.deps, { stock: 5 });
    const body = orderBody({ items: [{ variant: variant.id, quantity: 2 }] });
    const before = await ordersOf(buyer.user.id);
    const first = await post(t, buyer.headers, 'key-replay', body);
    const second = await post(t, buyer.headers, 'key-replay', body);
    expect(first.statusCode).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(second.statusCode).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.body).toBe(first.body);
    expect(await ordersOf(buyer.user.id)).toBe(before + 1);
    expect(await stockOf(t.deps, variant.id)).toBe(3);
    const [history] = await queryRows<{ key: string }>(
      t.deps.db,
      sql`SELECT idempotency_key AS key FROM order_history WHERE order_id = ${first.json().id}`,
    );
    expect(history!.key).toBe('key-replay');
  });

  it('answers the same key with another body 422, writing nothing', async () => {
    const { variant } = await makeVariant(t.deps);
    await post(
      t,
      buyer.headers,
      'key-other-body',
      orderBody({ items: [{ variant: variant.id, quantity: 1 }] }),
    );
    const before = await ordersOf(buyer.user.id);
    const res = await post(
      t,
      buyer.headers,
      'key-other-body',
      orderBody({ items: [{ variant: variant.id, quantity: 2 }] }),
    );
    expect(res.statusCode).toBe(422);
    expect(res.json()).toEqual({ detail: 'This Idempotency-Key was used with a different request.' });
    expect(await ordersOf(buyer.user.id)).toBe(before);
  });

  it("keeps one user's key apart from another's", async () => {
    const other = await signedInUser(t.app, t.deps);
    const { variant } = await makeVariant(t.deps);
    const body = orderBody({ items: [{ variant: variant.id, quantity: 1 }] });
    const mine = await post(t, buyer.headers, 'key-shared', body);
    const theirs = await post(t, other.headers, 'key-shared', body);
    expect(theirs.statusCode).toBe(201);
    expect(theirs.headers['idempotent-replayed']).toBeUndefined();
    expect(theirs.json().id).not.toBe(mine.json().id);
  });

  it('keeps no refused answer: a 400 and a 409 may be fixed and retried with the same key', async () => {
    const { variant } = await makeVariant(t.deps, { stock: 1 });
    const bad = await post(
      t,
      buyer.headers,
      'key-retry',
      orderBody({ billing_email: 'nope', items: [{ variant: variant.id, quantity: 1 }] }),
    );
    expect(bad.statusCode).toBe(400);
    const short = await post(
      t,
      buyer.headers,
      'key-retry',
      orderBody({ items: [{ variant: variant.id, quantity: 2 }] }),
    );
    expect(short.statusCode).toBe(409);
    const fixed = await post(
      t,
      buyer.headers,
      'key-retry',
      orderBody({ items: [{ variant: variant.id, quantity: 1 }] }),
    );
    expect(fixed.statusCode).toBe(201);
    expect(fixed.headers['idempotent-replayed']).toBeUndefined();
  });

  it('forgets a key after 24 hours', async () => {
    const { variant } = await makeVariant(t.deps);
    const body = orderBody({ items: [{ variant: variant.id, quantity: 1 }] });
    const first = await post(t, buyer.headers, 'key-old', body);
    const start = now;
    now = new Date(start.getTime() + 24 * 3600_000 + 1000);
    try {
      // The access token of an hour's sign-in has expired by then: sign in again at the new time.
      const later = await post(
        t,
        bearer((await tokensFor(t.app, buyer.user.username)).access),
        'key-old',
        body,
      );
      expect(later.statusCode).toBe(201);
      expect(later.headers['idempotent-replayed']).toBeUndefined();
      expect(later.json().id).not.toBe(first.json().id);
    } finally {
      now = start;
    }
  });

  it('refuses a malformed key with a 400', async () => {
    const res = await post(t, buyer.headers, 'x'.repeat(256), orderBody());
    expect(res.statusCode).toBe(400);
    expect(Object.keys(res.json())).toEqual(['Idempotency-Key']);
  });

  describe.skipIf(!postgres)('concurrently (PostgreSQL only: PGlite runs one transaction at a time)', () => {
    let second: TestApp;
    beforeAll(async () => {
      second = await createTestApp({ database: t.database, redisPrefix: t.redisPrefix, clock: () => now });
    });
    afterAll(() => second.close());

    it('makes one order of 20 concurrent requests with one key over two processes', async () => {
      const { variant } = await makeVariant(t.deps, { stock: 100 });
      const body = orderBody({ items: [{ variant: variant.id, quantity: 1 }] });
      const before = await ordersOf(buyer.user.id);
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) => post(i % 2 ? second : t, buyer.headers, 'key-race', body)),
      );
      expect(await ordersOf(buyer.user.id)).toBe(before + 1);
      expect(await stockOf(t.deps, variant.id)).toBe(99);
      const created = answers.filter((a) => a.statusCode === 201);
      expect(created.filter((a) => a.headers['idempotent-replayed'] === undefined)).toHaveLength(1);
      for (const a of created) expect(a.body).toBe(created[0]!.body);
      for (const a of answers.filter((x) => x.statusCode !== 201)) {
        expect(a.statusCode).toBe(409);
        expect(a.json()).toEqual({ detail: 'A request with this Idempotency-Key is in progress.' });
      }
      const replay = await post(t, buyer.headers, 'key-race', body);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.body).toBe(created[0]!.body);
    });
  });
});
