/**
 * Issue 11, acceptance 6 (SPEC §5 "unpaid orders expire", §9 `cancel_unpaid_orders`), with the clock
 * injected: a `pending` order older than `ORDER_PAYMENT_TIMEOUT` (default 30 min) is cancelled by the
 * system with reason `payment timeout`, its stock and its coupon's use given back and its customer
 * told once; a younger, a confirmed and a zero-total order are left alone; `0` never expires and
 * `5m` is honoured; the job is registered every minute and its run cancels; running it twice cancels
 * once; and a `payment.succeeded` that arrives after the expiry is refunded whole while the order
 * stays cancelled.
 *
 * Orders' `created_at` is the database's `now()`, so the tests move the application's clock ahead of
 * real time (`ahead`) rather than the orders back.
 */
import { and, asc, eq, sql } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { jobsList } from '../../src/commands/jobs.js';
import { cancelUnpaidOrders, CANCEL_UNPAID_ORDERS } from '../../src/modules/orders/expiry.js';
import { orderHistory, orders } from '../../src/modules/orders/tables.js';
import { payments, refunds, webhookEvents } from '../../src/modules/payments/tables.js';
import { queryRows } from '../../src/platform/db/client.js';
import { transaction } from '../../src/platform/db/transaction.js';
import { jobs } from '../../src/platform/jobs/tables.js';
import { signedInUser } from '../helpers/accounts.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { makeVariant, placeOrder, stockOf } from '../helpers/commerce.js';
import { settleJobs } from '../helpers/jobs.js';
import { captureOutput } from '../helpers/output.js';
import { deliverWebhook, pay, webhookEvent } from '../helpers/payments.js';
import { couponState, makeCoupon } from '../helpers/promotions.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.js';

const MINUTE = 60_000;
/** Access tokens outlive the clock's jumps (they are checked against the injected clock). */
const LONG_TOKENS = { JWT_ACCESS_TTL: '2h' };

type Customer = Awaited<ReturnType<typeof signedInUser>>;

/** The application's clock: real time plus `ahead` milliseconds. */
function movableClock() {
  const state = { ahead: 0 };
  return { state, clock: () => new Date(Date.now() + state.ahead) };
}

async function statusOf(t: TestApp, orderId: string) {
  const [row] = await t.deps.db.select({ status: orders.status }).from(orders).where(eq(orders.id, orderId));
  return row!.status;
}

async function historyOf(t: TestApp, orderId: string) {
  return t.deps.db
    .select({
      from: orderHistory.fromStatus,
      to: orderHistory.toStatus,
      by: orderHistory.actorId,
      reason: orderHistory.reason,
    })
    .from(orderHistory)
    .where(eq(orderHistory.orderId, orderId))
    .orderBy(asc(orderHistory.id));
}

/** The `send_order_status_email` jobs recorded for this order and status. */
async function statusEmailJobs(t: TestApp, orderId: string, status: string) {
  const [row] = await queryRows<{ n: number }>(
    t.deps.db,
    sql`SELECT count(*)::int AS n FROM jobs
        WHERE name = 'send_order_status_email' AND payload->>'order_id' = ${orderId}
          AND payload->>'status' = ${status}`,
  );
  return row!.n;
}

async function placeItems(
  t: TestApp,
  customer: Customer,
  fields: { stock?: number; price?: string; quantity?: number; isDigital?: boolean; extra?: object } = {},
) {
  const { variant } = await makeVariant(t.deps, {
    stock: fields.stock ?? 10,
    price: fields.price ?? '10.00',
    isDigital: fields.isDigital ?? false,
  });
  const res = await placeOrder(t.app, customer.headers, {
    items: [{ variant: variant.id, quantity: fields.quantity ?? 1 }],
    ...fields.extra,
  });
  expect(res.statusCode).toBe(201);
  // The confirmation e-mail's job holds a share lock on the order while it sends; the expiry skips
  // locked orders (they are taken on its next run), so the tests let it finish first.
  await settleJobs(t.deps);
  return { order: res.json<{ id: string; order_number: string; total_amount: string }>(), variant };
}

describe('unpaid orders expire (ORDER_PAYMENT_TIMEOUT default 30 min)', () => {
  const { state, clock } = movableClock();
  let smtp: SmtpSink;
  let t: TestApp;
  let customer: Customer;
  beforeAll(async () => {
    smtp = await startSmtpSink();
    t = await createTestApp({ clock, env: { ...LONG_TOKENS, EMAIL_URL: smtp.url } });
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });
  beforeEach(async () => {
    // Whatever an earlier test left pending is out of the way, so the counts below are this test's.
    state.ahead = 31 * MINUTE;
    await cancelUnpaidOrders(t.deps);
    state.ahead = 0;
    customer = await signedInUser(t.app, t.deps);
  });

  const detail = (orderId: string) =>
    t.app.inject({ method: 'GET', url: `/api/orders/${orderId}/`, headers: customer.headers });

  it('cancels a pending order 31 min old: reason `payment timeout`, by the system, stock and coupon use back', async () => {
    const coupon = await makeCoupon(t.deps);
    const { order, variant } = await placeItems(t, customer, {
      stock: 5,
      quantity: 2,
      extra: { coupon: coupon.code },
    });
    expect(order).toMatchObject({ status: 'pending', coupon_code: coupon.code, discount_amount: '2.00' });
    expect(await stockOf(t.deps, variant.id)).toBe(3);
    const held = await couponState(t.deps, coupon.id);
    expect(held.coupon.timesUsed).toBe(1);
    expect(held.held.map((r) => r.orderId)).toEqual([order.id]);

    state.ahead = 31 * MINUTE;
    expect(await cancelUnpaidOrders(t.deps)).toBe(1);

    const res = await detail(order.id);
    expect(res.statusCode).toBe(200);
    expect(res.json().status).toBe('cancelled');
    expect(res.json().history).toEqual([
      { from: null, to: 'pending', at: expect.any(String), by: customer.user.id, reason: 'order placed' },
      { from: 'pending', to: 'cancelled', at: expect.any(String), by: null, reason: 'payment timeout' },
    ]);
    expect(await stockOf(t.deps, variant.id)).toBe(5);
    const released = await couponState(t.deps, coupon.id);
    expect(released.coupon.timesUsed).toBe(0);
    expect(released.held).toEqual([]);
    expect(released.redemptions).toHaveLength(1);
    expect(released.redemptions[0]).toMatchObject({ orderId: order.id, state: 'released' });
    expect(released.redemptions[0]!.releasedAt).not.toBeNull();
  });

  it('leaves an order 29 min old alone, and cancels it once it is 31 min old', async () => {
    const { order, variant } = await placeItems(t, customer, { stock: 4, quantity: 3 });

    state.ahead = 29 * MINUTE;
    expect(await cancelUnpaidOrders(t.deps)).toBe(0);
    expect(await statusOf(t, order.id)).toBe('pending');
    expect(await historyOf(t, order.id)).toHaveLength(1);
    expect(await stockOf(t.deps, variant.id)).toBe(1);

    state.ahead = 31 * MINUTE;
    expect(await cancelUnpaidOrders(t.deps)).toBe(1);
    expect(await statusOf(t, order.id)).toBe('cancelled');
    expect(await stockOf(t.deps, variant.id)).toBe(4);
  });

  it('leaves a confirmed (paid) order alone', async () => {
    const { order, variant } = await placeItems(t, customer, { stock: 3, quantity: 1 });
    const started = await pay(t.app, customer.headers, order.id);
    expect(started.statusCode).toBe(201);
    const payment = started.json().payment;
    const paid = await deliverWebhook(
      t.app,
      t.deps,
      webhookEvent('payment.succeeded', { reference: payment.reference, amount: payment.amount }),
      { at: clock() },
    );
    expect(paid.statusCode).toBe(200);
    expect(await statusOf(t, order.id)).toBe('confirmed');

    state.ahead = 31 * MINUTE;
    expect(await cancelUnpaidOrders(t.deps)).toBe(0);
    expect(await statusOf(t, order.id)).toBe('confirmed');
    expect((await historyOf(t, order.id)).map((h) => h.to)).toEqual(['pending', 'confirmed']);
    const [row] = await t.deps.db.select().from(payments).where(eq(payments.id, payment.id));
    expect(row).toMatchObject({ status: 'succeeded', refundedAmount: '0.00' });
    expect(await t.deps.db.select().from(refunds).where(eq(refunds.paymentId, payment.id))).toEqual([]);
    expect(await stockOf(t.deps, variant.id)).toBe(2);
  });

  it('leaves an order with nothing to pay (0.00) alone, however old: it waits for staff', async () => {
    const coupon = await makeCoupon(t.deps, { kind: 'fixed', value: '50.00' });
    const { order, variant } = await placeItems(t, customer, {
      stock: 2,
      price: '10.00',
      isDigital: true,
      extra: { coupon: coupon.code },
    });
    expect(order).toMatchObject({ status: 'pending', discount_amount: '10.00', total_amount: '0.00' });

    state.ahead = 31 * MINUTE;
    expect(await cancelUnpaidOrders(t.deps)).toBe(0);
    state.ahead = 30 * 24 * 60 * MINUTE;
    expect(await cancelUnpaidOrders(t.deps)).toBe(0);
    expect(await statusOf(t, order.id)).toBe('pending');
    expect(await historyOf(t, order.id)).toHaveLength(1);
    expect(await stockOf(t.deps, variant.id)).toBe(1);
    expect((await couponState(t.deps, coupon.id)).coupon.timesUsed).toBe(1);
  });

  it('running it twice cancels once: the second run returns 0; one history row and one e-mail per order', async () => {
    const emails = ['expiry-twice-1@example.com', 'expiry-twice-2@example.com'];
    const placed = [];
    for (const email of emails)
      placed.push(await placeItems(t, customer, { stock: 6, quantity: 2, extra: { billing_email: email } }));

    state.ahead = 31 * MINUTE;
    expect(await cancelUnpaidOrders(t.deps)).toBe(2);
    expect(await cancelUnpaidOrders(t.deps)).toBe(0);
    await settleJobs(t.deps);

    for (const [i, { order, variant }] of placed.entries()) {
      const history = await historyOf(t, order.id);
      expect(history.filter((h) => h.to === 'cancelled')).toEqual([
        { from: 'pending', to: 'cancelled', by: null, reason: 'payment timeout' },
      ]);
      expect(await stockOf(t.deps, variant.id)).toBe(6);
      expect(await statusEmailJobs(t, order.id, 'cancelled')).toBe(1);
      expect(smtp.messagesTo(emails[i]!).map((m) => m.subject)).toEqual([
        `Order ${order.order_number} confirmed`,
        `Order ${order.order_number} was cancelled`,
      ]);
    }
  });

  it('is the job `cancel_unpaid_orders`, registered every minute, whose run cancels (directly and through the queue)', async () => {
    const definition = t.deps.jobs.registry.get(CANCEL_UNPAID_ORDERS);
    expect(CANCEL_UNPAID_ORDERS).toBe('cancel_unpaid_orders');
    expect(definition).toBeDefined();
    expect(definition!.everyMs).toBe(60_000);
    const out = captureOutput();
    jobsList(t.deps, out);
    expect(out.lines.find((l) => l.startsWith('cancel_unpaid_orders '))).toMatch(/ every 1 min /);

    // Its run, as a worker calls it, with a log of its own to read.
    const first = await placeItems(t, customer, { stock: 2, quantity: 2 });
    const lines: string[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    state.ahead = 31 * MINUTE;
    await definition!.run({}, { deps: t.deps, log, jobId: 0, attempt: 1, requestId: null });
    expect(await statusOf(t, first.order.id)).toBe('cancelled');
    expect(await stockOf(t.deps, first.variant.id)).toBe(2);
    const logged = lines.map((l) => JSON.parse(l) as { msg: string; cancelled?: number });
    expect(logged).toContainEqual(expect.objectContaining({ msg: 'unpaid orders cancelled', cancelled: 1 }));

    // And through the queue: recorded, dispatched, run, succeeded.
    state.ahead = 0;
    const second = await placeItems(t, customer, { stock: 2, quantity: 1 });
    state.ahead = 31 * MINUTE;
    const jobId = await transaction(t.deps.db, (tx) => t.deps.jobs.enqueue(tx, CANCEL_UNPAID_ORDERS, {}));
    await settleJobs(t.deps);
    const [job] = await t.deps.db.select().from(jobs).where(eq(jobs.id, jobId));
    expect(job).toMatchObject({ name: 'cancel_unpaid_orders', status: 'succeeded', lastError: null });
    expect(await statusOf(t, second.order.id)).toBe('cancelled');
    expect(await stockOf(t.deps, second.variant.id)).toBe(2);
    expect((await historyOf(t, second.order.id)).at(-1)).toEqual({
      from: 'pending',
      to: 'cancelled',
      by: null,
      reason: 'payment timeout',
    });
  });

  it('a `payment.succeeded` after the expiry → 200, the payment refunded whole, the order stays cancelled', async () => {
    const { order, variant } = await placeItems(t, customer, { stock: 5, quantity: 2, price: '12.50' });
    const started = await pay(t.app, customer.headers, order.id);
    expect(started.statusCode).toBe(201);
    const payment = started.json().payment;
    expect(payment).toMatchObject({ status: 'pending', amount: order.total_amount });

    state.ahead = 31 * MINUTE;
    expect(await cancelUnpaidOrders(t.deps)).toBe(1);
    expect(await statusOf(t, order.id)).toBe('cancelled');
    expect(await stockOf(t.deps, variant.id)).toBe(5);

    const event = webhookEvent('payment.succeeded', { reference: payment.reference, amount: payment.amount });
    const res = await deliverWebhook(t.app, t.deps, event, { at: clock() });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ received: true });

    const [row] = await t.deps.db.select().from(payments).where(eq(payments.id, payment.id));
    expect(row).toMatchObject({ status: 'refunded', amount: payment.amount, refundedAmount: payment.amount });
    const given = await t.deps.db.select().from(refunds).where(eq(refunds.paymentId, payment.id));
    expect(given).toHaveLength(1);
    expect(given[0]).toMatchObject({ amount: payment.amount, actorId: null });
    expect(await statusOf(t, order.id)).toBe('cancelled');
    const history = await historyOf(t, order.id);
    expect(history.map((h) => h.to)).toEqual(['pending', 'cancelled']);
    expect(history.some((h) => h.to === 'confirmed')).toBe(false);
    // The stock came back once, with the cancel; the late payment took none again.
    expect(await stockOf(t.deps, variant.id)).toBe(5);
    const [recorded] = await t.deps.db
      .select({ outcome: webhookEvents.outcome })
      .from(webhookEvents)
      .where(and(eq(webhookEvents.gateway, 'sandbox'), eq(webhookEvents.eventId, event.id)));
    expect(recorded!.outcome).toBe('refunded: order no longer pending');

    // Its redelivery changes nothing more.
    const again = await deliverWebhook(t.app, t.deps, event, { at: clock() });
    expect(again.statusCode).toBe(200);
    expect(await t.deps.db.select().from(refunds).where(eq(refunds.paymentId, payment.id))).toHaveLength(1);
    expect(await historyOf(t, order.id)).toHaveLength(2);
  });
});

describe('ORDER_PAYMENT_TIMEOUT set', () => {
  const never = movableClock();
  const five = movableClock();
  let off: TestApp;
  let short: TestApp;
  beforeAll(async () => {
    off = await createTestApp({ clock: never.clock, env: { ...LONG_TOKENS, ORDER_PAYMENT_TIMEOUT: '0' } });
    short = await createTestApp({ clock: five.clock, env: { ...LONG_TOKENS, ORDER_PAYMENT_TIMEOUT: '5m' } });
  });
  afterAll(async () => {
    await short?.close();
    await off?.close();
  });

  it('0: never, not even a year later, nor through the job', async () => {
    expect(off.config.orderPaymentTimeoutMs).toBe(0);
    const customer = await signedInUser(off.app, off.deps);
    const { order, variant } = await placeItems(off, customer, { stock: 3, quantity: 1 });
    never.state.ahead = 365 * 24 * 60 * MINUTE;
    expect(await cancelUnpaidOrders(off.deps)).toBe(0);
    await transaction(off.deps.db, (tx) => off.deps.jobs.enqueue(tx, CANCEL_UNPAID_ORDERS, {}));
    await settleJobs(off.deps);
    expect(await statusOf(off, order.id)).toBe('pending');
    expect(await historyOf(off, order.id)).toHaveLength(1);
    expect(await stockOf(off.deps, variant.id)).toBe(2);
  });

  it('5m: an order 4 min old stays, 6 min old is cancelled', async () => {
    expect(short.config.orderPaymentTimeoutMs).toBe(5 * MINUTE);
    const customer = await signedInUser(short.app, short.deps);
    const { order, variant } = await placeItems(short, customer, { stock: 3, quantity: 2 });
    five.state.ahead = 4 * MINUTE;
    expect(await cancelUnpaidOrders(short.deps)).toBe(0);
    expect(await statusOf(short, order.id)).toBe('pending');
    five.state.ahead = 6 * MINUTE;
    expect(await cancelUnpaidOrders(short.deps)).toBe(1);
    expect(await statusOf(short, order.id)).toBe('cancelled');
    expect((await historyOf(short, order.id)).at(-1)).toEqual({
      from: 'pending',
      to: 'cancelled',
      by: null,
      reason: 'payment timeout',
    });
    expect(await stockOf(short.deps, variant.id)).toBe(3);
  });
});
