/**
 * Issue 11, acceptance 3 under concurrency (SPEC §6: each event id handled once, whatever the
 * redeliveries and their concurrency), with two API processes on one PostgreSQL database: one event
 * delivered 10 times at once is one transition, one history row, one webhook_events row and no
 * extra e-mail; a `payment.succeeded` and a `payment.failed` of one payment racing each other leave
 * one of the two consistent states; 10 different `payment.succeeded` events of one payment at once
 * are one transition.
 */
import { asc, eq, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderHistory, orders } from '../../src/modules/orders/tables.js';
import { payments, refunds, webhookEvents } from '../../src/modules/payments/tables.js';
import { jobs } from '../../src/platform/jobs/tables.js';
import { signedInUser } from '../helpers/accounts.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { makeVariant, placeOrder } from '../helpers/commerce.js';
import { settleJobs } from '../helpers/jobs.js';
import { deliverWebhook, pay, webhookEvent } from '../helpers/payments.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.js';

const postgres = Boolean(process.env.DATABASE_URL);
/** Both processes of one deployment share the secret (each would otherwise generate its own). */
const SECRET = 'whsec_concurrency-test-0123456789abcdef';

describe.skipIf(!postgres)(
  'webhooks on two API processes on one PostgreSQL database (skipped on PGlite: it runs one transaction at a time, so nothing interleaves)',
  () => {
    let smtp: SmtpSink;
    let a: TestApp;
    let b: TestApp;
    beforeAll(async () => {
      smtp = await startSmtpSink();
      const env = { PAYMENT_WEBHOOK_SECRET: SECRET, EMAIL_URL: smtp.url };
      a = await createTestApp({ env });
      b = await createTestApp({ env, database: a.database, redisPrefix: a.redisPrefix });
    });
    afterAll(async () => {
      await b?.close();
      await a?.close();
      await smtp?.close();
    });

    /** The i-th delivery's process: deliveries alternate between the two. */
    const proc = (i: number): TestApp => (i % 2 === 0 ? a : b);
    const app = (i: number): FastifyInstance => proc(i).app;

    let counter = 0;
    /** A customer's order and its pending sandbox payment; the order's e-mail address is its own. */
    async function pendingPayment() {
      counter++;
      const email = `webhook-race-${counter}-${Math.random().toString(36).slice(2, 8)}@example.com`;
      const { headers } = await signedInUser(a.app, a.deps);
      const { variant } = await makeVariant(a.deps, { stock: 10, price: '15.00' });
      const placed = await placeOrder(a.app, headers, {
        items: [{ variant: variant.id, quantity: 2 }],
        billing_email: email,
      });
      expect(placed.statusCode).toBe(201);
      const paid = await pay(b.app, headers, placed.json<{ id: string }>().id);
      expect(paid.statusCode).toBe(201);
      const { payment } = paid.json<{
        payment: { id: number; order: string; reference: string; amount: string; currency: string };
      }>();
      const event = (type: string, id?: string) =>
        webhookEvent(
          type,
          { reference: payment.reference, amount: payment.amount, currency: payment.currency },
          id,
        );
      return { email, orderId: payment.order, paymentId: payment.id, reference: payment.reference, event };
    }

    async function stateOf(f: { orderId: string; paymentId: number; reference: string }) {
      const db = a.deps.db;
      const [payment] = await db.select().from(payments).where(eq(payments.id, f.paymentId));
      const [order] = await db.select().from(orders).where(eq(orders.id, f.orderId));
      const history = await db
        .select()
        .from(orderHistory)
        .where(eq(orderHistory.orderId, f.orderId))
        .orderBy(asc(orderHistory.id));
      return {
        payment: payment!,
        order: order!,
        moves: history.map((h) => `${h.fromStatus ?? ''}→${h.toStatus}`),
        refunds: await db.select().from(refunds).where(eq(refunds.paymentId, f.paymentId)),
        events: await db
          .select()
          .from(webhookEvents)
          .where(sql`${webhookEvents.payload} -> 'data' ->> 'reference' = ${f.reference}`),
        jobs: (
          await db
            .select({ name: jobs.name, payload: jobs.payload })
            .from(jobs)
            .where(sql`${jobs.payload} ->> 'order_id' = ${f.orderId}`)
            .orderBy(asc(jobs.id))
        ).map((j) => [j.name, (j.payload as { status?: string }).status ?? null]),
      };
    }

    const settle = async () => {
      await settleJobs(a.deps);
      await settleJobs(b.deps);
    };

    it('one event delivered 10 times at once: all 200, one transition, one history row, one event row, one e-mail', async () => {
      const f = await pendingPayment();
      const event = f.event('payment.succeeded');
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, i) => deliverWebhook(app(i), proc(i).deps, event)),
      );
      expect(answers.map((r) => r.statusCode)).toEqual(Array(10).fill(200));
      for (const r of answers) expect(r.json()).toEqual({ received: true });

      await settle();
      const after = await stateOf(f);
      expect(after.payment.status).toBe('succeeded');
      expect(after.payment.refundedAmount).toBe('0.00');
      expect(after.order.status).toBe('confirmed');
      expect(after.moves).toEqual(['→pending', 'pending→confirmed']);
      expect(after.events.map((e) => e.eventId)).toEqual([event.id]);
      expect(after.refunds).toEqual([]);
      // `confirmed` sends no status e-mail (§5: shipped, cancelled, refunded do); the one mail is
      // the checkout's confirmation, queued once and sent once.
      expect(after.jobs).toEqual([['send_order_confirmation', null]]);
      const mails = smtp.messagesTo(f.email);
      expect(mails).toHaveLength(1);
      expect(mails[0]!.subject).toMatch(/ confirmed$/);
    });

    it('payment.succeeded and payment.failed of one payment at once: exactly one wins, the state consistent', async () => {
      for (let round = 0; round < 6; round++) {
        const f = await pendingPayment();
        const succeeded = f.event('payment.succeeded');
        const failed = f.event('payment.failed');
        // Alternate which process gets which event, and which is sent first.
        const pair = round % 2 === 0 ? [succeeded, failed] : [failed, succeeded];
        const answers = await Promise.all(
          pair.map((e, i) => deliverWebhook(app(i + round), proc(i + round).deps, e)),
        );
        expect(answers.map((r) => r.statusCode)).toEqual([200, 200]);
        for (const r of answers) expect(r.json()).toEqual({ received: true });

        await settle();
        const after = await stateOf(f);
        // Both events were received and recorded once each; only one of them moved anything.
        expect(after.events.map((e) => e.eventId).sort()).toEqual([succeeded.id, failed.id].sort());
        expect(after.refunds).toEqual([]);
        expect(after.payment.refundedAmount).toBe('0.00');
        if (after.payment.status === 'succeeded') {
          expect(after.order.status).toBe('confirmed');
          expect(after.moves).toEqual(['→pending', 'pending→confirmed']);
        } else {
          expect(after.payment.status).toBe('failed');
          expect(after.order.status).toBe('pending');
          expect(after.moves).toEqual(['→pending']);
        }
        expect(after.jobs).toEqual([['send_order_confirmation', null]]);
      }
    });

    it('10 different payment.succeeded events of one payment at once: one transition', async () => {
      const f = await pendingPayment();
      const events = Array.from({ length: 10 }, () => f.event('payment.succeeded'));
      const answers = await Promise.all(events.map((e, i) => deliverWebhook(app(i), proc(i).deps, e)));
      expect(answers.map((r) => r.statusCode)).toEqual(Array(10).fill(200));
      for (const r of answers) expect(r.json()).toEqual({ received: true });

      await settle();
      const after = await stateOf(f);
      expect(after.payment.status).toBe('succeeded');
      expect(after.payment.refundedAmount).toBe('0.00');
      expect(after.order.status).toBe('confirmed');
      expect(after.moves).toEqual(['→pending', 'pending→confirmed']);
      expect(after.events.map((e) => e.eventId).sort()).toEqual(events.map((e) => e.id).sort());
      expect(after.refunds).toEqual([]);
      expect(after.jobs).toEqual([['send_order_confirmation', null]]);
    });
  },
);
