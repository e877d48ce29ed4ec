/**
 * Refunds under concurrency (SPEC §6: "concurrent refunds never refund more than was paid"), over
 * two API processes on one PostgreSQL database: 20 refunds of 1.00 at once on a 10.00 payment make
 * exactly 10 refunds, the order is refunded once and its stock comes back once; a customer's cancel
 * racing a staff member's full refund of one paid order gives the money back exactly once.
 */
import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderHistory, orders } from '../../src/modules/orders/tables.js';
import { payments, refunds } from '../../src/modules/payments/tables.js';
import { toCents } from '../../src/platform/money.js';
import { signedInUser } from '../helpers/accounts.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { makeVariant, placeOrder, stockOf } from '../helpers/commerce.js';
import { settleJobs } from '../helpers/jobs.js';
import { deliverWebhook, pay, webhookEvent } from '../helpers/payments.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.js';

const postgres = Boolean(process.env.DATABASE_URL);

describe.skipIf(!postgres)(
  'refunds from two API processes on one PostgreSQL database (skipped on PGlite: it runs one transaction at a time, so nothing interleaves)',
  () => {
    let smtp: SmtpSink;
    let a: TestApp;
    let b: TestApp;
    let customer: Awaited<ReturnType<typeof signedInUser>>;
    let staff: Awaited<ReturnType<typeof signedInUser>>;
    let mailbox = 0;
    beforeAll(async () => {
      smtp = await startSmtpSink();
      const env = { EMAIL_URL: smtp.url, TAX_RATE: '0' };
      a = await createTestApp({ env });
      b = await createTestApp({ env, database: a.database, redisPrefix: a.redisPrefix });
      customer = await signedInUser(a.app, a.deps);
      staff = await signedInUser(a.app, a.deps, { isStaff: true });
    });
    afterAll(async () => {
      await b?.close();
      await a?.close();
      await smtp?.close();
    });

    const apps = () => [a, b] as const;

    /** A confirmed order of one digital item at 10.00, paid through the sandbox's webhook. */
    async function paidOrder() {
      const { variant } = await makeVariant(a.deps, { stock: 10, price: '10.00', isDigital: true });
      const email = `race${++mailbox}@example.com`;
      const placed = await placeOrder(a.app, customer.headers, {
        items: [{ variant: variant.id, quantity: 1 }],
        billing_email: email,
      });
      expect(placed.statusCode).toBe(201);
      const order = placed.json<{ id: string; order_number: string; total_amount: string }>();
      expect(order.total_amount).toBe('10.00');
      const started = await pay(a.app, customer.headers, order.id);
      expect(started.statusCode).toBe(201);
      const payment = started.json<{ payment: { id: number; reference: string; amount: string } }>().payment;
      const delivered = await deliverWebhook(
        a.app,
        a.deps,
        webhookEvent('payment.succeeded', { reference: payment.reference, amount: payment.amount }),
      );
      expect(delivered.statusCode).toBe(200);
      expect(await stockOf(a.deps, variant.id)).toBe(9);
      return { variant, order, payment, email };
    }

    const refund = (t: TestApp, paymentId: number, body?: object) =>
      t.app.inject({
        method: 'POST',
        url: `/api/payments/${paymentId}/refund/`,
        headers: staff.headers,
        ...(body === undefined ? {} : { payload: body }),
      });
    const cancel = (t: TestApp, orderId: string) =>
      t.app.inject({ method: 'POST', url: `/api/orders/${orderId}/cancel/`, headers: customer.headers });
    const paymentRow = async (id: number) =>
      (await a.deps.db.select().from(payments).where(eq(payments.id, id)))[0]!;
    const refundRows = (paymentId: number) =>
      a.deps.db.select().from(refunds).where(eq(refunds.paymentId, paymentId)).orderBy(asc(refunds.id));
    const sum = (amounts: string[]) => amounts.reduce((total, x) => total + toCents(x), 0n);
    const historyOf = (orderId: string) =>
      a.deps.db
        .select()
        .from(orderHistory)
        .where(eq(orderHistory.orderId, orderId))
        .orderBy(asc(orderHistory.id));
    const orderStatus = async (id: string) =>
      (await a.deps.db.select({ status: orders.status }).from(orders).where(eq(orders.id, id)))[0]!.status;

    it('20 concurrent refunds of 1.00 on a 10.00 payment: exactly 10 go through, the order is refunded once', async () => {
      const made = await paidOrder();
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) => refund(apps()[i % 2]!, made.payment.id, { amount: '1.00' })),
      );
      const statuses = answers.map((r) => r.statusCode);
      expect(statuses.filter((s) => s === 200)).toHaveLength(10);
      expect(statuses.filter((s) => s !== 200 && s !== 400 && s !== 409)).toEqual([]);
      // Each refund saw the ones before it: the totals they answer are 1.00..10.00, each once.
      expect(
        answers
          .filter((r) => r.statusCode === 200)
          .map((r) => r.json<{ refunded_amount: string }>().refunded_amount)
          .sort((x, y) => Number(x) - Number(y)),
      ).toEqual(['1.00', '2.00', '3.00', '4.00', '5.00', '6.00', '7.00', '8.00', '9.00', '10.00']);
      for (const r of answers.filter((r) => r.statusCode !== 200)) {
        expect([
          { detail: 'Only a succeeded payment can be refunded; this one is refunded.' },
          { amount: ['At most 0.00 is left to refund.'] },
        ]).toContainEqual(r.json());
      }

      expect(await paymentRow(made.payment.id)).toMatchObject({
        status: 'refunded',
        refundedAmount: '10.00',
      });
      const rows = await refundRows(made.payment.id);
      expect(rows).toHaveLength(10);
      expect(rows.every((r) => r.amount === '1.00')).toBe(true);
      expect(sum(rows.map((r) => r.amount))).toBe(1000n);
      expect(new Set(rows.map((r) => r.reference)).size).toBe(10);

      expect(await orderStatus(made.order.id)).toBe('refunded');
      const history = await historyOf(made.order.id);
      expect(history.filter((h) => h.toStatus === 'refunded')).toHaveLength(1);
      expect(history.map((h) => h.toStatus)).toEqual(['pending', 'confirmed', 'refunded']);
      expect(await stockOf(a.deps, made.variant.id)).toBe(10);

      await settleJobs(a.deps);
      await settleJobs(b.deps);
      expect(smtp.messagesTo(made.email).map((m) => m.subject)).toEqual([
        `Order ${made.order.order_number} confirmed`,
        `Order ${made.order.order_number} was refunded`,
      ]);
    });

    it('concurrent full refunds of one payment: one goes through, the others are 409s', async () => {
      const made = await paidOrder();
      const answers = await Promise.all(
        Array.from({ length: 6 }, (_, i) => refund(apps()[i % 2]!, made.payment.id)),
      );
      expect(answers.map((r) => r.statusCode).sort()).toEqual([200, 409, 409, 409, 409, 409]);
      expect(await paymentRow(made.payment.id)).toMatchObject({
        status: 'refunded',
        refundedAmount: '10.00',
      });
      expect((await refundRows(made.payment.id)).map((r) => r.amount)).toEqual(['10.00']);
      expect((await historyOf(made.order.id)).filter((h) => h.toStatus === 'refunded')).toHaveLength(1);
      expect(await stockOf(a.deps, made.variant.id)).toBe(10);
    });

    it("a customer's cancel racing a staff full refund of one paid order: the money goes back exactly once", async () => {
      for (let round = 0; round < 6; round++) {
        const made = await paidOrder();
        const [cancelApp, refundApp] = round % 2 === 0 ? [a, b] : [b, a];
        const [cancelled, refunded] = await Promise.all([
          cancel(cancelApp, made.order.id),
          refund(refundApp, made.payment.id),
        ]);
        // One of them wins; the other is told why it cannot (the order or the payment moved on).
        expect([cancelled.statusCode, refunded.statusCode].sort()).toEqual([200, 409]);
        if (cancelled.statusCode === 409) {
          expect(cancelled.json()).toEqual({
            detail: 'Cannot move an order from refunded to cancelled.',
            allowed: [],
          });
        } else {
          expect(refunded.json()).toEqual({
            detail: 'Only a succeeded payment can be refunded; this one is refunded.',
          });
        }

        const payment = await paymentRow(made.payment.id);
        expect(payment).toMatchObject({ status: 'refunded', refundedAmount: '10.00' });
        const rows = await refundRows(made.payment.id);
        expect(rows).toHaveLength(1);
        expect(sum(rows.map((r) => r.amount))).toBe(toCents(payment.amount));

        const status = await orderStatus(made.order.id);
        expect(status).toBe(cancelled.statusCode === 200 ? 'cancelled' : 'refunded');
        const history = await historyOf(made.order.id);
        expect(history.map((h) => h.toStatus)).toEqual(['pending', 'confirmed', status]);
        expect(await stockOf(a.deps, made.variant.id)).toBe(10);
      }
    });
  },
);
