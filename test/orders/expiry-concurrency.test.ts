/**
 * Issue 11, acceptance 6 under concurrency (SPEC §5 "unpaid orders expire", §6 "a payment that
 * succeeds for an order no longer pending is refunded at once"): with two API processes on one
 * PostgreSQL database and one injected clock, two workers running `cancel_unpaid_orders` at once
 * cancel each overdue order exactly once (one history row, the stock back once, one e-mail job),
 * also when there are more orders than one batch and the workers' batches interleave; and the
 * expiry racing a `payment.succeeded` for the same overdue order ends, every round, either confirmed
 * and paid or cancelled and refunded: never cancelled with money kept, never confirmed after being
 * cancelled.
 */
import { asc, eq, inArray, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deps } from '../../src/deps.js';
import { cancelUnpaidOrders } from '../../src/modules/orders/expiry.js';
import { orderHistory, orders } from '../../src/modules/orders/tables.js';
import { payments, refunds } from '../../src/modules/payments/tables.js';
import { queryRows } from '../../src/platform/db/client.js';
import { signedInUser } from '../helpers/accounts.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { makeVariant, manyCustomers, placeOrder, stockOf } from '../helpers/commerce.js';
import { settleJobs } from '../helpers/jobs.js';
import { deliverWebhook, pay, webhookEvent } from '../helpers/payments.js';

const postgres = Boolean(process.env.DATABASE_URL);
const MINUTE = 60_000;

/** Both processes' clock, 31 min ahead of the database's: every order placed is overdue at once. */
const clock = () => new Date(Date.now() + 31 * MINUTE);

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!postgres)(
  'the expiry with two API processes on one PostgreSQL database (skipped on PGlite: it runs one transaction at a time, so nothing interleaves)',
  () => {
    let a: TestApp;
    let b: TestApp;
    beforeAll(async () => {
      a = await createTestApp({ clock });
      b = await createTestApp({ clock, database: a.database, redisPrefix: a.redisPrefix });
    });
    afterAll(async () => {
      await b?.close();
      await a?.close();
    });

    /** The i-th request's process: requests alternate between the two. */
    const app = (i: number): FastifyInstance => (i % 2 === 0 ? a.app : b.app);
    const deps = (i: number): Deps => (i % 2 === 0 ? a.deps : b.deps);

    async function historyOf(orderIds: string[]) {
      return a.deps.db
        .select({ order: orderHistory.orderId, from: orderHistory.fromStatus, to: orderHistory.toStatus })
        .from(orderHistory)
        .where(inArray(orderHistory.orderId, orderIds))
        .orderBy(asc(orderHistory.id));
    }

    it('20 overdue orders, the expiry run by both processes at once: each cancelled exactly once, stock back once', async () => {
      // Whatever is overdue already is out of the way, so the two counts below are these orders'.
      await cancelUnpaidOrders(a.deps);
      const customers = await manyCustomers(a.deps, 20);
      const placed: Array<{ orderId: string; variantId: string }> = [];
      for (const [i, customer] of customers.entries()) {
        const { variant } = await makeVariant(a.deps, { stock: 5, price: '8.00' });
        const res = await placeOrder(app(i), customer.headers, {
          items: [{ variant: variant.id, quantity: 2 }],
        });
        expect(res.statusCode).toBe(201);
        placed.push({ orderId: res.json().id, variantId: variant.id });
      }
      for (const { variantId } of placed) expect(await stockOf(a.deps, variantId)).toBe(3);
      // The confirmation e-mails' jobs hold a share lock on their order while they send, and the
      // expiry skips locked orders until its next run: they finish first.
      await Promise.all([settleJobs(a.deps), settleJobs(b.deps)]);

      const counts = await Promise.all([cancelUnpaidOrders(a.deps), cancelUnpaidOrders(b.deps)]);
      expect(counts[0] + counts[1]).toBe(20);
      expect(await Promise.all([cancelUnpaidOrders(a.deps), cancelUnpaidOrders(b.deps)])).toEqual([0, 0]);

      const ids = placed.map((p) => p.orderId);
      const statuses = await a.deps.db
        .select({ status: orders.status })
        .from(orders)
        .where(inArray(orders.id, ids));
      expect(statuses.map((s) => s.status)).toEqual(Array(20).fill('cancelled'));
      const history = await historyOf(ids);
      for (const id of ids) {
        expect(history.filter((h) => h.order === id).map((h) => [h.from, h.to])).toEqual([
          [null, 'pending'],
          ['pending', 'cancelled'],
        ]);
      }
      for (const { variantId } of placed) expect(await stockOf(a.deps, variantId)).toBe(5);
      const mails = await queryRows<{ order_id: string; n: number }>(
        a.deps.db,
        sql`SELECT payload->>'order_id' AS order_id, count(*)::int AS n FROM jobs
            WHERE name = 'send_order_status_email' AND payload->>'status' = 'cancelled'
              AND payload->>'order_id' IN (${sql.join(
                ids.map((id) => sql`${id}`),
                sql`, `,
              )})
            GROUP BY 1`,
      );
      expect(mails).toHaveLength(20);
      expect(mails.every((m) => m.n === 1)).toBe(true);
    });

    it('120 overdue orders (more than one batch of 50), four workers on two processes: the batches split, each order cancelled once', async () => {
      await cancelUnpaidOrders(a.deps);
      const customer = await signedInUser(a.app, a.deps);
      const { variant } = await makeVariant(a.deps, { stock: 1000, price: '3.00' });
      const ids: string[] = [];
      for (let chunk = 0; chunk < 12; chunk++) {
        const answers = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            placeOrder(app(i), customer.headers, { items: [{ variant: variant.id, quantity: 1 }] }),
          ),
        );
        for (const res of answers) {
          expect(res.statusCode).toBe(201);
          ids.push(res.json().id);
        }
      }
      expect(await stockOf(a.deps, variant.id)).toBe(880);
      await Promise.all([settleJobs(a.deps), settleJobs(b.deps)]);

      const counts = await Promise.all([0, 1, 2, 3].map((i) => cancelUnpaidOrders(deps(i))));
      expect(counts.reduce((sum, n) => sum + n, 0)).toBe(120);

      const history = await historyOf(ids);
      expect(history.filter((h) => h.to === 'cancelled')).toHaveLength(120);
      expect(new Set(history.filter((h) => h.to === 'cancelled').map((h) => h.order)).size).toBe(120);
      const [left] = await queryRows<{ n: number }>(
        a.deps.db,
        sql`SELECT count(*)::int AS n FROM orders WHERE user_id = ${customer.user.id} AND status <> 'cancelled'`,
      );
      expect(left!.n).toBe(0);
      expect(await stockOf(a.deps, variant.id)).toBe(1000);
    });

    it('the expiry racing `payment.succeeded` for the same overdue order, many rounds: confirmed and paid, or cancelled and refunded', async () => {
      await cancelUnpaidOrders(a.deps);
      const customer = await signedInUser(a.app, a.deps);
      const outcomes = { confirmed: 0, cancelled: 0 };

      for (let round = 0; round < 30; round++) {
        const { variant } = await makeVariant(a.deps, { stock: 3, price: '15.00' });
        const placed = await placeOrder(app(round), customer.headers, {
          items: [{ variant: variant.id, quantity: 1 }],
        });
        expect(placed.statusCode).toBe(201);
        const orderId: string = placed.json().id;
        const started = await pay(app(round + 1), customer.headers, orderId);
        expect(started.statusCode).toBe(201);
        await Promise.all([settleJobs(a.deps), settleJobs(b.deps)]);
        const payment = started.json().payment;
        const event = webhookEvent('payment.succeeded', {
          reference: payment.reference,
          amount: payment.amount,
        });

        // One process expires, the other receives the payment; either may start first.
        const lead = (round % 7) * 3;
        const [expired, received] = await Promise.all([
          delay(round % 2 === 0 ? lead : 0).then(() => cancelUnpaidOrders(deps(round))),
          delay(round % 2 === 0 ? 0 : lead).then(() =>
            deliverWebhook(app(round + 1), deps(round + 1), event, { at: clock() }),
          ),
        ]);
        expect(received.statusCode).toBe(200);
        expect(received.json()).toEqual({ received: true });

        // A later run finds nothing: a confirmed order is never expired afterwards.
        expect(await cancelUnpaidOrders(deps(round + 1))).toBe(0);

        const [order] = await a.deps.db
          .select({ status: orders.status })
          .from(orders)
          .where(eq(orders.id, orderId));
        const [paid] = await a.deps.db.select().from(payments).where(eq(payments.id, payment.id));
        const given = await a.deps.db.select().from(refunds).where(eq(refunds.paymentId, payment.id));
        const steps = (await historyOf([orderId])).map((h) => h.to);

        if (order!.status === 'confirmed') {
          outcomes.confirmed++;
          expect(expired).toBe(0);
          expect(paid).toMatchObject({ status: 'succeeded', refundedAmount: '0.00' });
          expect(given).toEqual([]);
          expect(steps).toEqual(['pending', 'confirmed']);
          expect(await stockOf(a.deps, variant.id)).toBe(2);
        } else {
          outcomes.cancelled++;
          expect(order!.status).toBe('cancelled');
          expect(expired).toBe(1);
          expect(paid).toMatchObject({ status: 'refunded', refundedAmount: payment.amount });
          expect(given).toHaveLength(1);
          expect(given[0]!.amount).toBe(payment.amount);
          expect(steps).toEqual(['pending', 'cancelled']);
          expect(await stockOf(a.deps, variant.id)).toBe(3);
        }
      }
      expect(outcomes.confirmed + outcomes.cancelled).toBe(30);
    });
  },
);
