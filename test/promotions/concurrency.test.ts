/**
 * Issue 10 (SPEC §6 coupons under concurrency): checkout takes a coupon's use under the coupon's
 * row lock, so with two API processes on one database `max_uses` and `max_uses_per_user` hold
 * exactly, a refused checkout is a 409 `coupon_invalid` and never an order at full price, a cancel
 * racing a checkout leaves `times_used` equal to the held redemptions, and concurrent cancels of
 * one order give its use back once.
 */
import { sql } from 'drizzle-orm';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/platform/db/client.js';
import { signedInUser } from '../helpers/accounts.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { makeVariant, manyCustomers, placeOrder, stockOf } from '../helpers/commerce.js';
import { couponState, makeCoupon } from '../helpers/promotions.js';

const postgres = Boolean(process.env.DATABASE_URL);
const REMEDY = ' Remove it from your cart to check out without it.';

type Headers = Record<string, string>;

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!postgres)(
  'two API processes on one PostgreSQL database (skipped on PGlite: it runs one transaction at a time, so nothing interleaves)',
  () => {
    let a: TestApp;
    let b: TestApp;
    let staff: Headers;
    beforeAll(async () => {
      a = await createTestApp();
      b = await createTestApp({ database: a.database, redisPrefix: a.redisPrefix });
      staff = (await signedInUser(a.app, a.deps, { isStaff: true })).headers;
    });
    afterAll(async () => {
      await b?.close();
      await a?.close();
    });

    /** The i-th request's process: requests alternate between the two. */
    const app = (i: number): FastifyInstance => (i % 2 === 0 ? a.app : b.app);

    const cancel = (i: number, headers: Headers, orderId: string) =>
      app(i).inject({ method: 'POST', url: `/api/orders/${orderId}/cancel/`, headers });

    /** The coupon's stored state, after checking the invariant: `times_used` = its held redemptions. */
    async function consistent(couponId: number) {
      const state = await couponState(a.deps, couponId);
      expect(state.coupon.timesUsed).toBe(state.held.length);
      return state;
    }

    const statuses = (answers: LightMyRequestResponse[]) => answers.map((r) => r.statusCode).sort();

    for (const lines of ['one variant for all', 'a variant each'] as const) {
      it(`max_uses = 5, 30 carts with the coupon check out at once (${lines}): 5 orders with the discount, 25 × 409`, async () => {
        const coupon = await makeCoupon(a.deps, { maxUses: 5 });
        const shared = (await makeVariant(a.deps, { stock: 1000, price: '20.00' })).variant;
        const customers = await manyCustomers(a.deps, 30);
        const variantIds: string[] = [];
        for (const [i, customer] of customers.entries()) {
          const variant =
            lines === 'a variant each'
              ? (await makeVariant(a.deps, { stock: 1000, price: '20.00' })).variant
              : shared;
          variantIds.push(variant.id);
          const added = await app(i).inject({
            method: 'POST',
            url: '/api/cart/items/',
            headers: customer.headers,
            payload: { variant: variant.id, quantity: 1 },
          });
          expect(added.statusCode).toBe(201);
          const applied = await app(i + 1).inject({
            method: 'POST',
            url: '/api/cart/coupon/',
            headers: customer.headers,
            payload: { code: coupon.code },
          });
          expect(applied.statusCode).toBe(200);
        }

        const answers = await Promise.all(customers.map((c, i) => placeOrder(app(i), c.headers)));
        expect(statuses(answers)).toEqual([...Array(5).fill(201), ...Array(25).fill(409)]);
        for (const r of answers.filter((r) => r.statusCode === 201))
          expect(r.json()).toMatchObject({
            coupon_code: coupon.code,
            discount_amount: '2.00',
            total_amount: '23.00',
          });

        const ids = customers.map((c) => c.id);
        const orders = await queryRows<{ coupon_code: string | null; discount_amount: string }>(
          a.deps.db,
          sql`SELECT coupon_code, discount_amount::text FROM orders
              WHERE user_id IN (${sql.join(
                ids.map((id) => sql`${id}`),
                sql`, `,
              )})`,
        );
        expect(orders).toHaveLength(5);
        for (const o of orders) {
          expect(o.coupon_code).toBe(coupon.code);
          expect(Number(o.discount_amount)).toBeGreaterThan(0);
        }
        const state = await consistent(coupon.id);
        expect(state.coupon.timesUsed).toBe(5);
        expect(state.held).toHaveLength(5);
        expect(new Set(state.held.map((r) => r.userId)).size).toBe(5);
        const stock = await Promise.all([...new Set(variantIds)].map((id) => stockOf(a.deps, id)));
        expect(stock.reduce((sum, n) => sum + (1000 - n), 0)).toBe(5);

        // The 25 refused carts keep their line and their coupon.
        const [kept] = await queryRows<{ carts: number; lines: number }>(
          a.deps.db,
          sql`SELECT count(DISTINCT c.id)::int AS carts, count(l.id)::int AS lines
              FROM carts c JOIN cart_lines l ON l.cart_id = c.id
              WHERE c.coupon_id = ${coupon.id}`,
        );
        expect(kept).toEqual({ carts: 25, lines: 25 });

        for (const r of answers.filter((r) => r.statusCode === 409))
          expect(r.json()).toEqual({
            detail: `This coupon has been used up.${REMEDY}`,
            code: 'coupon_invalid',
          });
      });
    }

    it('max_uses_per_user = 1, one customer places 5 `items` orders at once: one with the discount, 4 × 409', async () => {
      const coupon = await makeCoupon(a.deps, { code: 'CONC-PER-USER', maxUsesPerUser: 1 });
      const customer = await signedInUser(a.app, a.deps);
      // A variant per order: only the coupon's lock orders these checkouts.
      const made = await Promise.all(
        Array.from({ length: 5 }, () => makeVariant(a.deps, { stock: 100, price: '20.00' })),
      );
      const answers = await Promise.all(
        made.map(({ variant }, i) =>
          placeOrder(app(i), customer.headers, {
            items: [{ variant: variant.id, quantity: 1 }],
            coupon: coupon.code,
          }),
        ),
      );
      expect(statuses(answers)).toEqual([201, 409, 409, 409, 409]);
      const placed = answers.find((r) => r.statusCode === 201)!.json();
      expect(placed).toMatchObject({ coupon_code: coupon.code, discount_amount: '2.00' });

      const [row] = await queryRows<{ n: number }>(
        a.deps.db,
        sql`SELECT count(*)::int AS n FROM orders WHERE user_id = ${customer.user.id}`,
      );
      expect(row!.n).toBe(1);
      const state = await consistent(coupon.id);
      expect(state.coupon.timesUsed).toBe(1);
      expect(state.held.map((r) => r.orderId)).toEqual([placed.id]);
      const stock = await Promise.all(made.map(({ variant }) => stockOf(a.deps, variant.id)));
      expect(stock.sort((x, y) => x - y)).toEqual([99, 100, 100, 100, 100]);

      for (const r of answers.filter((r) => r.statusCode === 409))
        expect(r.json()).toEqual({ detail: 'You have already used this coupon.', code: 'coupon_invalid' });
    });

    it('max_uses = 1: a cancel racing another customer’s checkout, many rounds, keeps times_used = held ≤ 1', async () => {
      const coupon = await makeCoupon(a.deps, { code: 'CONC-RACE', maxUses: 1 });
      const { variant } = await makeVariant(a.deps, { stock: 1000, price: '20.00' });
      const holder = await signedInUser(a.app, a.deps);
      const racer = await signedInUser(a.app, a.deps);
      const items = { items: [{ variant: variant.id, quantity: 1 }], coupon: coupon.code };
      const refusals: LightMyRequestResponse[] = [];

      for (let round = 0; round < 30; round++) {
        const held = await placeOrder(app(round), holder.headers, items);
        expect(held.statusCode).toBe(201);
        expect((await consistent(coupon.id)).coupon.timesUsed).toBe(1);

        const [cancelled, checkout] = await Promise.all([
          cancel(round, holder.headers, held.json().id),
          // Started a little later in some rounds, so that either may reach the coupon first.
          delay((round % 5) * 5).then(() => placeOrder(app(round + 1), racer.headers, items)),
        ]);
        expect(cancelled.statusCode).toBe(200);
        expect([201, 409]).toContain(checkout.statusCode);

        const state = await consistent(coupon.id);
        expect(state.coupon.timesUsed).toBeLessThanOrEqual(1);
        if (checkout.statusCode === 201) {
          expect(checkout.json()).toMatchObject({ coupon_code: coupon.code, discount_amount: '2.00' });
          expect(state.held.map((r) => r.orderId)).toEqual([checkout.json().id]);
          // Give it back for the next round.
          expect((await cancel(round, racer.headers, checkout.json().id)).statusCode).toBe(200);
          expect((await consistent(coupon.id)).coupon.timesUsed).toBe(0);
        } else {
          refusals.push(checkout);
          expect(state.held).toEqual([]);
        }
      }
      const final = await consistent(coupon.id);
      expect(final.coupon.timesUsed).toBe(0);
      expect(final.redemptions.every((r) => r.state === 'released' && r.releasedAt !== null)).toBe(true);
      expect(await stockOf(a.deps, variant.id)).toBe(1000);
      for (const r of refusals)
        expect(r.json()).toEqual({ detail: 'This coupon has been used up.', code: 'coupon_invalid' });
    });

    it('20 concurrent cancels of one order (customer and staff, both processes) give its use back once', async () => {
      const coupon = await makeCoupon(a.deps, { code: 'CONC-CANCELS' });
      const { variant } = await makeVariant(a.deps, { stock: 10, price: '20.00' });
      const customer = await signedInUser(a.app, a.deps);
      const items = { items: [{ variant: variant.id, quantity: 2 }], coupon: coupon.code };
      const kept = (await placeOrder(a.app, customer.headers, items)).json();
      const order = (await placeOrder(b.app, customer.headers, items)).json();
      expect((await consistent(coupon.id)).coupon.timesUsed).toBe(2);
      expect(await stockOf(a.deps, variant.id)).toBe(6);

      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          i % 4 < 2
            ? cancel(i, customer.headers, order.id)
            : app(i).inject({
                method: 'POST',
                url: `/api/orders/${order.id}/status/`,
                headers: staff,
                payload: { status: 'cancelled' },
              }),
        ),
      );
      expect(statuses(answers)).toEqual([200, ...Array(19).fill(409)]);
      for (const r of answers.filter((r) => r.statusCode === 409))
        expect(r.json()).toEqual({
          detail: 'Cannot move an order from cancelled to cancelled.',
          allowed: [],
        });

      const state = await consistent(coupon.id);
      expect(state.coupon.timesUsed).toBe(1);
      expect(state.held.map((r) => r.orderId)).toEqual([kept.id]);
      expect(state.redemptions.find((r) => r.orderId === order.id)).toMatchObject({
        state: 'released',
        releasedAt: expect.any(Date),
      });
      expect(await stockOf(a.deps, variant.id)).toBe(8);
    });
  },
);
