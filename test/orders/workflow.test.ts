/**
 * SPEC §5's status workflow, from its one table: every (from, to) pair for staff (`status/`) and
 * for the owner (`cancel/`), history with actor and reason, the stock back on a cancel, and
 * concurrent moves of which exactly one wins.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ORDER_STATUSES, WORKFLOW, allowedMoves, type OrderStatus } from '../../src/modules/orders/index.js';
import { queryRows } from '../../src/platform/db/client.js';
import { signedInUser } from '../helpers/accounts.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { makeVariant, placeOrder, stockOf } from '../helpers/commerce.js';

const postgres = Boolean(process.env.DATABASE_URL);

describe('order workflow', () => {
  let t: TestApp;
  let owner: Awaited<ReturnType<typeof signedInUser>>;
  let staff: Awaited<ReturnType<typeof signedInUser>>;
  let other: Awaited<ReturnType<typeof signedInUser>>;
  beforeAll(async () => {
    t = await createTestApp();
    owner = await signedInUser(t.app, t.deps);
    staff = await signedInUser(t.app, t.deps, { isStaff: true });
    other = await signedInUser(t.app, t.deps);
  });
  afterAll(() => t.close());

  /** A fresh order of 2 units, put straight into `status`. */
  async function orderIn(status: OrderStatus, stock = 10) {
    const { variant } = await makeVariant(t.deps, { stock });
    const order = (
      await placeOrder(t.app, owner.headers, { items: [{ variant: variant.id, quantity: 2 }] })
    ).json();
    await t.deps.db.execute(sql`UPDATE orders SET status = ${status} WHERE id = ${order.id}`);
    return { id: order.id as string, variantId: variant.id };
  }
  const setStatus = (
    id: string,
    status: string,
    headers: Record<string, string> = staff.headers,
    reason?: string,
  ) =>
    t.app.inject({
      method: 'POST',
      url: `/api/orders/${id}/status/`,
      headers,
      payload: { status, ...(reason ? { reason } : {}) },
    });
  const cancel = (id: string, headers = owner.headers) =>
    t.app.inject({
      method: 'POST',
      url: `/api/orders/${id}/cancel/`,
      headers,
      payload: { reason: 'changed my mind' },
    });

  const pairs = ORDER_STATUSES.flatMap((from) => ORDER_STATUSES.map((to) => [from, to] as const));

  it.each(pairs)('staff: %s → %s follows the table', async (from, to) => {
    const order = await orderIn(from);
    const res = await setStatus(order.id, to, staff.headers, 'by the book');
    const allowed = WORKFLOW[from][to]?.includes('staff') ?? false;
    if (allowed) {
      expect(res.statusCode).toBe(200);
      expect(res.json().status).toBe(to);
      expect(res.json().history.at(-1)).toEqual({
        from,
        to,
        at: expect.any(String),
        by: staff.user.id,
        reason: 'by the book',
      });
    } else {
      expect(res.statusCode).toBe(409);
      expect(res.json()).toEqual({
        detail: `Cannot move an order from ${from} to ${to}.`,
        allowed: allowedMoves(from, 'staff'),
      });
      const [row] = await queryRows<{ status: string }>(
        t.deps.db,
        sql`SELECT status FROM orders WHERE id = ${order.id}`,
      );
      expect(row!.status).toBe(from);
    }
  });

  it.each(ORDER_STATUSES)('owner: cancel from %s follows the table', async (from) => {
    const order = await orderIn(from);
    const res = await cancel(order.id);
    if (WORKFLOW[from].cancelled?.includes('customer')) {
      expect(res.statusCode).toBe(200);
      expect(res.json().history.at(-1)).toMatchObject({
        from,
        to: 'cancelled',
        by: owner.user.id,
        reason: 'changed my mind',
      });
    } else {
      expect(res.statusCode).toBe(409);
      expect(res.json()).toEqual({
        detail: `Cannot move an order from ${from} to cancelled.`,
        allowed: allowedMoves(from, 'customer'),
      });
    }
  });

  it('refuses refunded through status/: only a refund gets there', async () => {
    const order = await orderIn('delivered');
    const res = await setStatus(order.id, 'refunded');
    expect(res.statusCode).toBe(409);
  });

  it('gives the stock back on a cancel', async () => {
    const order = await orderIn('pending');
    expect(await stockOf(t.deps, order.variantId)).toBe(8);
    expect((await cancel(order.id)).statusCode).toBe(200);
    expect(await stockOf(t.deps, order.variantId)).toBe(10);
    expect((await cancel(order.id)).statusCode).toBe(409);
    expect(await stockOf(t.deps, order.variantId)).toBe(10);
  });

  it('permissions: anonymous 401, another customer 404, a customer on status/ 403, bad ids 404', async () => {
    const order = await orderIn('pending');
    expect((await t.app.inject({ method: 'POST', url: `/api/orders/${order.id}/cancel/` })).statusCode).toBe(
      401,
    );
    expect((await setStatus(order.id, 'confirmed', {})).statusCode).toBe(401);
    expect((await cancel(order.id, other.headers)).statusCode).toBe(404);
    expect((await setStatus(order.id, 'confirmed', owner.headers)).statusCode).toBe(403);
    expect((await setStatus('not-a-uuid', 'confirmed')).statusCode).toBe(404);
    expect((await setStatus('00000000-0000-4000-8000-000000000000', 'confirmed')).statusCode).toBe(404);
    for (const status of ['lost', '', 42, null]) {
      expect((await setStatus(order.id, status as string)).statusCode).toBe(400);
    }
    const [row] = await queryRows<{ status: string }>(
      t.deps.db,
      sql`SELECT status FROM orders WHERE id = ${order.id}`,
    );
    expect(row!.status).toBe('pending');
  });

  describe.skipIf(!postgres)(
    'under concurrency (PostgreSQL only: PGlite runs one transaction at a time)',
    () => {
      let second: TestApp;
      beforeAll(async () => {
        second = await createTestApp({ database: t.database, redisPrefix: t.redisPrefix });
      });
      afterAll(() => second.close());

      it('gives the stock back once for 10 concurrent cancels over two processes', async () => {
        const order = await orderIn('pending');
        const answers = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            (i % 2 ? second : t).app.inject({
              method: 'POST',
              url: `/api/orders/${order.id}/cancel/`,
              headers: owner.headers,
            }),
          ),
        );
        expect(answers.map((a) => a.statusCode).sort()).toEqual([200, ...Array(9).fill(409)]);
        expect(await stockOf(t.deps, order.variantId)).toBe(10);
        const [row] = await queryRows<{ n: number }>(
          t.deps.db,
          sql`SELECT count(*)::int AS n FROM order_history WHERE order_id = ${order.id} AND to_status = 'cancelled'`,
        );
        expect(row!.n).toBe(1);
      });

      it('lets exactly one of shipped and cancelled from processing win, 20 times over', async () => {
        for (let round = 0; round < 20; round++) {
          const order = await orderIn('processing');
          const [a, b] = await Promise.all([
            t.app.inject({
              method: 'POST',
              url: `/api/orders/${order.id}/status/`,
              headers: staff.headers,
              payload: { status: 'shipped' },
            }),
            second.app.inject({
              method: 'POST',
              url: `/api/orders/${order.id}/status/`,
              headers: staff.headers,
              payload: { status: 'cancelled' },
            }),
          ]);
          expect([a.statusCode, b.statusCode].sort()).toEqual([200, 409]);
          const winner = a.statusCode === 200 ? 'shipped' : 'cancelled';
          const [row] = await queryRows<{ status: string }>(
            t.deps.db,
            sql`SELECT status FROM orders WHERE id = ${order.id}`,
          );
          expect(row!.status).toBe(winner);
          expect(await stockOf(t.deps, order.variantId)).toBe(winner === 'cancelled' ? 10 : 8);
        }
      });
    },
  );
});
