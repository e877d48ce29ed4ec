/**
 * SPEC §6 refunds, `POST /api/payments/<id>/refund/` (staff): partial refunds add up in
 * `refunded_amount` and never pass what was paid; the last of the money sets the payment and the
 * order to `refunded`, gives the stock back when the order had not shipped, and e-mails the
 * customer; a bad amount, a payment that is not `succeeded`, a customer or an anonymous caller is
 * refused with nothing written; an Idempotency-Key replay refunds once. Cancelling a paid order (by
 * its customer or by staff) refunds it in full and leaves it `cancelled`.
 */
import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderHistory, orders } from '../../src/modules/orders/tables.js';
import { payments, refunds } from '../../src/modules/payments/tables.js';
import { signedInUser } from '../helpers/accounts.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { makeVariant, placeOrder, stockOf } from '../helpers/commerce.js';
import { settleJobs } from '../helpers/jobs.js';
import { deliverWebhook, pay, webhookEvent } from '../helpers/payments.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.js';

describe('refunding a payment', () => {
  let smtp: SmtpSink;
  let t: TestApp;
  let customer: Awaited<ReturnType<typeof signedInUser>>;
  let staff: Awaited<ReturnType<typeof signedInUser>>;
  let mailbox = 0;
  beforeAll(async () => {
    smtp = await startSmtpSink();
    t = await createTestApp({ env: { EMAIL_URL: smtp.url, TAX_RATE: '0' } });
    customer = await signedInUser(t.app, t.deps);
    staff = await signedInUser(t.app, t.deps, { isStaff: true });
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  /** A fresh order of one digital item at 10.00 (total 10.00), and its payment, not yet settled. */
  async function pendingPayment() {
    const { variant } = await makeVariant(t.deps, { stock: 10, price: '10.00', isDigital: true });
    const email = `refund${++mailbox}@example.com`;
    const placed = await placeOrder(t.app, customer.headers, {
      items: [{ variant: variant.id, quantity: 1 }],
      billing_email: email,
    });
    expect(placed.statusCode).toBe(201);
    const order = placed.json<{ id: string; order_number: string; total_amount: string }>();
    expect(order.total_amount).toBe('10.00');
    const started = await pay(t.app, customer.headers, order.id);
    expect(started.statusCode).toBe(201);
    const payment = started.json<{ payment: { id: number; reference: string; amount: string } }>().payment;
    return { variant, order, payment, email };
  }

  /** As `pendingPayment`, then the gateway's `payment.succeeded`: the order is `confirmed`. */
  async function paidOrder() {
    const made = await pendingPayment();
    const delivered = await deliverWebhook(
      t.app,
      t.deps,
      webhookEvent('payment.succeeded', { reference: made.payment.reference, amount: made.payment.amount }),
    );
    expect(delivered.statusCode).toBe(200);
    expect(await orderStatus(made.order.id)).toBe('confirmed');
    expect(await stockOf(t.deps, made.variant.id)).toBe(9);
    return made;
  }

  const refund = (
    paymentId: number | string,
    body?: object,
    headers: Record<string, string> = staff.headers,
  ) =>
    t.app.inject({
      method: 'POST',
      url: `/api/payments/${paymentId}/refund/`,
      headers,
      ...(body === undefined ? {} : { payload: body }),
    });
  const orderStatus = async (id: string) =>
    (await t.deps.db.select({ status: orders.status }).from(orders).where(eq(orders.id, id)))[0]!.status;
  const paymentRow = async (id: number) =>
    (await t.deps.db.select().from(payments).where(eq(payments.id, id)))[0]!;
  const refundRows = (paymentId: number) =>
    t.deps.db.select().from(refunds).where(eq(refunds.paymentId, paymentId)).orderBy(asc(refunds.id));
  const historyOf = (orderId: string) =>
    t.deps.db
      .select()
      .from(orderHistory)
      .where(eq(orderHistory.orderId, orderId))
      .orderBy(asc(orderHistory.id));
  /** Everything a refund could change: compared before and after each refusal. */
  const snapshot = async (made: {
    payment: { id: number };
    order: { id: string };
    variant: { id: string };
  }) => ({
    payment: await paymentRow(made.payment.id),
    refunds: await refundRows(made.payment.id),
    order: (await t.deps.db.select().from(orders).where(eq(orders.id, made.order.id)))[0],
    history: await historyOf(made.order.id),
    stock: await stockOf(t.deps, made.variant.id),
  });
  const subjectsTo = async (email: string) => {
    await settleJobs(t.deps);
    return smtp.messagesTo(email).map((m) => m.subject);
  };
  const moveAsStaff = (orderId: string, status: string) =>
    t.app.inject({
      method: 'POST',
      url: `/api/orders/${orderId}/status/`,
      headers: staff.headers,
      payload: { status },
    });

  it('refunds 5.00 of 10.00, then the rest: payment and order refunded, stock back, the customer e-mailed', async () => {
    const made = await paidOrder();

    const half = await refund(made.payment.id, { amount: '5.00', reason: 'one of two broken' });
    expect(half.statusCode).toBe(200);
    expect(half.json()).toEqual({
      id: made.payment.id,
      order: made.order.id,
      user: customer.user.id,
      gateway: 'sandbox',
      amount: '10.00',
      currency: 'USD',
      status: 'succeeded',
      refunded_amount: '5.00',
      reference: made.payment.reference,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    expect(await orderStatus(made.order.id)).toBe('confirmed');
    expect(await stockOf(t.deps, made.variant.id)).toBe(9);
    expect((await historyOf(made.order.id)).map((h) => h.toStatus)).toEqual(['pending', 'confirmed']);

    const rest = await refund(made.payment.id);
    expect(rest.statusCode).toBe(200);
    expect(rest.json()).toMatchObject({ id: made.payment.id, status: 'refunded', refunded_amount: '10.00' });
    const stored = await paymentRow(made.payment.id);
    expect(stored).toMatchObject({ status: 'refunded', refundedAmount: '10.00', amount: '10.00' });
    expect((await refundRows(made.payment.id)).map((r) => [r.amount, r.reason, r.actorId])).toEqual([
      ['5.00', 'one of two broken', staff.user.id],
      ['5.00', '', staff.user.id],
    ]);
    for (const row of await refundRows(made.payment.id)) expect(row.reference).toMatch(/^sbx_re_/);

    expect(await orderStatus(made.order.id)).toBe('refunded');
    expect(await stockOf(t.deps, made.variant.id)).toBe(10);
    const detail = await t.app.inject({
      method: 'GET',
      url: `/api/orders/${made.order.id}/`,
      headers: customer.headers,
    });
    expect(detail.json().status).toBe('refunded');
    expect(detail.json().history.at(-1)).toEqual({
      from: 'confirmed',
      to: 'refunded',
      at: expect.any(String),
      by: staff.user.id,
      reason: `payment ${made.payment.id} refunded`,
    });
    expect((await historyOf(made.order.id)).map((h) => h.toStatus)).toEqual([
      'pending',
      'confirmed',
      'refunded',
    ]);
    expect(await subjectsTo(made.email)).toEqual([
      `Order ${made.order.order_number} confirmed`,
      `Order ${made.order.order_number} was refunded`,
    ]);
  });

  it('takes the amount as a JSON number too, and names the reason given in the history', async () => {
    const made = await paidOrder();
    const res = await refund(made.payment.id, { amount: 10, reason: 'never arrived' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'refunded', refunded_amount: '10.00' });
    const last = (await historyOf(made.order.id)).at(-1)!;
    expect(last).toMatchObject({
      fromStatus: 'confirmed',
      toStatus: 'refunded',
      actorId: staff.user.id,
      reason: 'never arrived',
    });
  });

  it('refunds a shipped order: the order is refunded, the stock stays with the customer', async () => {
    const made = await paidOrder();
    for (const status of ['processing', 'shipped']) {
      expect((await moveAsStaff(made.order.id, status)).statusCode).toBe(200);
    }
    const res = await refund(made.payment.id);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'refunded', refunded_amount: '10.00' });
    expect(await orderStatus(made.order.id)).toBe('refunded');
    expect(await stockOf(t.deps, made.variant.id)).toBe(9);
    expect((await historyOf(made.order.id)).map((h) => [h.fromStatus, h.toStatus])).toEqual([
      [null, 'pending'],
      ['pending', 'confirmed'],
      ['confirmed', 'processing'],
      ['processing', 'shipped'],
      ['shipped', 'refunded'],
    ]);
    expect(await subjectsTo(made.email)).toEqual([
      `Order ${made.order.order_number} confirmed`,
      `Order ${made.order.order_number} has shipped`,
      `Order ${made.order.order_number} was refunded`,
    ]);
  });

  it('refuses more than is left (400 on amount), changing nothing', async () => {
    const made = await paidOrder();
    const tooMuch = await refund(made.payment.id, { amount: '10.01' });
    expect(tooMuch.statusCode).toBe(400);
    expect(tooMuch.json()).toEqual({ amount: ['At most 10.00 is left to refund.'] });

    expect((await refund(made.payment.id, { amount: '6.50' })).statusCode).toBe(200);
    const before = await snapshot(made);
    const over = await refund(made.payment.id, { amount: '3.51' });
    expect(over.statusCode).toBe(400);
    expect(over.json()).toEqual({ amount: ['At most 3.50 is left to refund.'] });
    expect(await snapshot(made)).toEqual(before);
    expect(before.payment).toMatchObject({ status: 'succeeded', refundedAmount: '6.50' });
    expect(before.refunds).toHaveLength(1);
  });

  it.each([
    [{ amount: 0 }, 'Ensure this value is greater than 0.'],
    [{ amount: '0.00' }, 'Ensure this value is greater than 0.'],
    [{ amount: -1 }, expect.stringContaining('greater than')],
    [{ amount: '-1' }, expect.stringContaining('greater than')],
    [{ amount: 'abc' }, 'A valid number is required.'],
    [{ amount: '' }, 'A valid number is required.'],
    [{ amount: 1.234 }, 'Ensure that there are no more than 2 decimal places.'],
    [{ amount: '1.234' }, 'Ensure that there are no more than 2 decimal places.'],
    [{ amount: '1e3' }, 'A valid number is required.'],
  ])('answers the amount %j with a 400 on amount, changing nothing', async (body, message) => {
    const made = await paidOrder();
    const before = await snapshot(made);
    const res = await refund(made.payment.id, body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ amount: [message] });
    expect(await snapshot(made)).toEqual(before);
  });

  it.each([
    [{ amount: null }],
    [{ amount: true }],
    [{ reason: 'x'.repeat(501) }],
    [{ amount: '1'.repeat(21) }],
  ])('answers the body %j with a 400, changing nothing', async (body) => {
    const made = await paidOrder();
    const before = await snapshot(made);
    const res = await refund(made.payment.id, body);
    expect(res.statusCode).toBe(400);
    expect(await snapshot(made)).toEqual(before);
  });

  it('refuses a pending or failed payment (409), changing nothing', async () => {
    const pending = await pendingPayment();
    const beforePending = await snapshot(pending);
    const res = await refund(pending.payment.id);
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({ detail: 'Only a succeeded payment can be refunded; this one is pending.' });
    expect((await refund(pending.payment.id, { amount: '1.00' })).statusCode).toBe(409);
    expect(await snapshot(pending)).toEqual(beforePending);

    const failed = await pendingPayment();
    const delivered = await deliverWebhook(
      t.app,
      t.deps,
      webhookEvent('payment.failed', { reference: failed.payment.reference, amount: failed.payment.amount }),
    );
    expect(delivered.statusCode).toBe(200);
    const beforeFailed = await snapshot(failed);
    expect(beforeFailed.payment.status).toBe('failed');
    const refused = await refund(failed.payment.id);
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toEqual({
      detail: 'Only a succeeded payment can be refunded; this one is failed.',
    });
    expect(await snapshot(failed)).toEqual(beforeFailed);
    expect(beforeFailed.order!.status).toBe('pending');
  });

  it('refuses a payment refunded already (409), with or without an amount, changing nothing', async () => {
    const made = await paidOrder();
    expect((await refund(made.payment.id)).statusCode).toBe(200);
    await settleJobs(t.deps);
    const before = await snapshot(made);
    for (const body of [undefined, {}, { amount: '1.00' }]) {
      const res = await refund(made.payment.id, body);
      expect(res.statusCode).toBe(409);
      expect(res.json()).toEqual({
        detail: 'Only a succeeded payment can be refunded; this one is refunded.',
      });
    }
    expect(await snapshot(made)).toEqual(before);
    expect(await subjectsTo(made.email)).toEqual([
      `Order ${made.order.order_number} confirmed`,
      `Order ${made.order.order_number} was refunded`,
    ]);
  });

  it('refuses customers, the owner too (403), and anonymous callers (401), changing nothing', async () => {
    const made = await paidOrder();
    const other = await signedInUser(t.app, t.deps);
    const before = await snapshot(made);
    for (const who of [customer, other]) {
      for (const body of [undefined, { amount: '1.00' }, { amount: 'abc' }]) {
        const res = await refund(made.payment.id, body, who.headers);
        expect(res.statusCode).toBe(403);
        expect(res.json()).toEqual({ detail: 'You do not have permission to perform this action.' });
      }
    }
    const anonymous = await refund(made.payment.id, { amount: '1.00' }, {});
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json()).toEqual({ detail: 'Authentication credentials were not provided.' });
    const badToken = await refund(made.payment.id, undefined, { authorization: 'Bearer nonsense' });
    expect(badToken.statusCode).toBe(401);
    // A customer cannot probe ids either: an unknown one is a 403 as well, not a 404.
    expect((await refund(2_000_000_000, undefined, customer.headers)).statusCode).toBe(403);
    expect(await snapshot(made)).toEqual(before);
  });

  it.each(['2000000000', '2147483648', '99999999999', '0', '-1', 'abc', '1.5', '1e3', ' 1'])(
    'answers the payment id %j with a 404',
    async (id) => {
      const res = await refund(encodeURIComponent(id));
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual({ detail: 'Not found.' });
    },
  );

  it('replays an Idempotency-Key: the same answer, refunded once; another body with it is a 422', async () => {
    const made = await paidOrder();
    const headers = { ...staff.headers, 'idempotency-key': `refund-${made.payment.id}` };
    const first = await refund(made.payment.id, { amount: '4.00' }, headers);
    const second = await refund(made.payment.id, { amount: '4.00' }, headers);
    expect(first.statusCode).toBe(200);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(second.statusCode).toBe(200);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.body).toBe(first.body);
    expect(first.json()).toMatchObject({ status: 'succeeded', refunded_amount: '4.00' });
    expect((await paymentRow(made.payment.id)).refundedAmount).toBe('4.00');
    expect(await refundRows(made.payment.id)).toHaveLength(1);

    const before = await snapshot(made);
    const other = await refund(made.payment.id, { amount: '1.00' }, headers);
    expect(other.statusCode).toBe(422);
    expect(other.json()).toEqual({ detail: 'This Idempotency-Key was used with a different request.' });
    expect(await snapshot(made)).toEqual(before);

    // The full refund under a key of its own, replayed: the order is refunded once.
    const restHeaders = { ...staff.headers, 'idempotency-key': `refund-rest-${made.payment.id}` };
    const rest = await refund(made.payment.id, undefined, restHeaders);
    const restAgain = await refund(made.payment.id, undefined, restHeaders);
    expect(rest.statusCode).toBe(200);
    expect(restAgain.statusCode).toBe(200);
    expect(restAgain.body).toBe(rest.body);
    expect(rest.json()).toMatchObject({ status: 'refunded', refunded_amount: '10.00' });
    expect((await refundRows(made.payment.id)).map((r) => r.amount)).toEqual(['4.00', '6.00']);
    expect((await historyOf(made.order.id)).filter((h) => h.toStatus === 'refunded')).toHaveLength(1);
    expect(await stockOf(t.deps, made.variant.id)).toBe(10);
  });

  it('does not keep a refused refund under its Idempotency-Key: fixed, it goes through', async () => {
    const made = await paidOrder();
    const headers = { ...staff.headers, 'idempotency-key': `refund-fix-${made.payment.id}` };
    expect((await refund(made.payment.id, { amount: '11.00' }, headers)).statusCode).toBe(400);
    const fixed = await refund(made.payment.id, { amount: '1.00' }, headers);
    expect(fixed.statusCode).toBe(200);
    expect(fixed.headers['idempotent-replayed']).toBeUndefined();
    expect(await refundRows(made.payment.id)).toHaveLength(1);
  });

  it('refunds a paid order its customer cancels, in full: the order is cancelled (not refunded), stock back', async () => {
    const made = await paidOrder();
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/orders/${made.order.id}/cancel/`,
      headers: customer.headers,
      payload: { reason: 'changed my mind' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().status).toBe('cancelled');
    expect(await paymentRow(made.payment.id)).toMatchObject({ status: 'refunded', refundedAmount: '10.00' });
    const rows = await refundRows(made.payment.id);
    expect(rows.map((r) => [r.amount, r.actorId])).toEqual([['10.00', customer.user.id]]);
    expect(rows[0]!.reason).toContain('order cancelled');
    expect(await orderStatus(made.order.id)).toBe('cancelled');
    expect((await historyOf(made.order.id)).map((h) => h.toStatus)).toEqual([
      'pending',
      'confirmed',
      'cancelled',
    ]);
    expect(await stockOf(t.deps, made.variant.id)).toBe(10);
    expect(await subjectsTo(made.email)).toEqual([
      `Order ${made.order.order_number} confirmed`,
      `Order ${made.order.order_number} was cancelled`,
    ]);
    // Nothing is left to refund: staff are told so.
    expect((await refund(made.payment.id)).statusCode).toBe(409);
  });

  it('refunds a paid order staff cancel, in full: the order is cancelled, stock back', async () => {
    const made = await paidOrder();
    const res = await moveAsStaff(made.order.id, 'cancelled');
    expect(res.statusCode).toBe(200);
    expect(res.json().status).toBe('cancelled');
    expect(await paymentRow(made.payment.id)).toMatchObject({ status: 'refunded', refundedAmount: '10.00' });
    expect((await refundRows(made.payment.id)).map((r) => [r.amount, r.actorId])).toEqual([
      ['10.00', staff.user.id],
    ]);
    expect(await orderStatus(made.order.id)).toBe('cancelled');
    expect(await stockOf(t.deps, made.variant.id)).toBe(10);
  });

  it('refunds what is left of a partly refunded order that is then cancelled', async () => {
    const made = await paidOrder();
    expect((await refund(made.payment.id, { amount: '2.50' })).statusCode).toBe(200);
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/orders/${made.order.id}/cancel/`,
      headers: customer.headers,
    });
    expect(res.statusCode).toBe(200);
    expect(await paymentRow(made.payment.id)).toMatchObject({ status: 'refunded', refundedAmount: '10.00' });
    expect((await refundRows(made.payment.id)).map((r) => r.amount)).toEqual(['2.50', '7.50']);
    expect(await orderStatus(made.order.id)).toBe('cancelled');
    expect(await stockOf(t.deps, made.variant.id)).toBe(10);
  });

  it('cancels an unpaid order without a refund: its pending payment is left alone', async () => {
    const made = await pendingPayment();
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/orders/${made.order.id}/cancel/`,
      headers: customer.headers,
    });
    expect(res.statusCode).toBe(200);
    expect(await paymentRow(made.payment.id)).toMatchObject({ status: 'pending', refundedAmount: '0.00' });
    expect(await refundRows(made.payment.id)).toEqual([]);
  });
});
