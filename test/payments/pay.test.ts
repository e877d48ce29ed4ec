/**
 * Issue 11, acceptance 1 and 7 for `POST /api/orders/<id>/pay/` (SPEC §6): 201 `{payment,
 * next_action}` in the SPEC's shape; while a payment is pending the same call answers it (200),
 * after it failed a new one is made (201); the permissions matrix (another customer 404, staff on
 * another's order 403, anonymous 401); a malformed or unknown order 404; a non-pending order or one
 * with nothing to pay 409; an unknown or disabled gateway 400 on `gateway`; bad bodies 400 (unknown
 * fields dropped, as everywhere); Idempotency-Key replay and mismatch; and, on PostgreSQL with two
 * API processes, 10 concurrent calls make one payment. Every refusal writes nothing.
 */
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/platform/db/client.js';
import { signedInUser } from '../helpers/accounts.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { makeVariant, placeOrder } from '../helpers/commerce.js';
import { deliverWebhook, pay, webhookEvent } from '../helpers/payments.js';
import { makeCoupon } from '../helpers/promotions.js';

const postgres = Boolean(process.env.DATABASE_URL);
const SITE = 'https://shop.example.com';

type Headers = Record<string, string>;
type Customer = Awaited<ReturnType<typeof signedInUser>>;

/** A pending order of one line at `price` (tax 0, shipping 5.00 below the free threshold). */
async function newOrder(t: TestApp, headers: Headers, price = '12.00', app: FastifyInstance = t.app) {
  const { variant } = await makeVariant(t.deps, { price });
  const res = await placeOrder(app, headers, { items: [{ variant: variant.id, quantity: 1 }] });
  expect(res.statusCode).toBe(201);
  return res.json<{ id: string; total_amount: string; user: number }>();
}

/** The order's payments as stored, oldest first. */
const paymentsOf = (t: TestApp, orderId: string) =>
  queryRows<{ id: number; status: string; reference: string; amount: string }>(
    t.deps.db,
    sql`SELECT id, status, reference, amount::text AS amount FROM payments WHERE order_id = ${orderId} ORDER BY id`,
  );

/** Everything a refused `pay` could have written, and the order's state. */
async function snapshot(t: TestApp, orderId: string) {
  const [row] = await queryRows(
    t.deps.db,
    sql`SELECT (SELECT count(*)::int FROM payments) AS payments,
               (SELECT count(*)::int FROM refunds) AS refunds,
               (SELECT count(*)::int FROM idempotency_keys) AS keys,
               (SELECT count(*)::int FROM jobs) AS jobs,
               (SELECT count(*)::int FROM order_history WHERE order_id = ${orderId}) AS history,
               (SELECT status FROM orders WHERE id = ${orderId}) AS status,
               (SELECT updated_at FROM orders WHERE id = ${orderId}) AS updated_at`,
  );
  return row!;
}

describe('paying an order', () => {
  let t: TestApp;
  let customer: Customer;
  let other: Customer;
  let staff: Customer;
  beforeAll(async () => {
    t = await createTestApp({ env: { SITE_URL: SITE } });
    customer = await signedInUser(t.app, t.deps);
    other = await signedInUser(t.app, t.deps);
    staff = await signedInUser(t.app, t.deps, { isStaff: true });
  });
  afterAll(() => t.close());

  it('answers 201 with the payment and its next action in the SPEC shape', async () => {
    const order = await newOrder(t, customer.headers, '12.00');
    expect(order.total_amount).toBe('17.00');
    const res = await pay(t.app, customer.headers, order.id);
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(['next_action', 'payment']);
    expect(body.payment).toEqual({
      id: expect.any(Number),
      order: order.id,
      user: customer.user.id,
      gateway: 'sandbox',
      amount: '17.00',
      currency: 'USD',
      status: 'pending',
      refunded_amount: '0.00',
      reference: expect.stringMatching(/^sbx_[0-9a-f]{24}$/),
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    expect(new Date(body.payment.created_at).toISOString()).toBe(body.payment.created_at);
    expect(body.next_action).toEqual({
      type: 'sandbox',
      url: `${SITE}/api/payments/sandbox/${body.payment.reference}/`,
    });

    const stored = await paymentsOf(t, order.id);
    expect(stored).toEqual([
      { id: body.payment.id, status: 'pending', reference: body.payment.reference, amount: '17.00' },
    ]);
    // The payment as the detail route shows it is the one `pay` answered.
    const detail = await t.app.inject({
      method: 'GET',
      url: `/api/payments/${body.payment.id}/`,
      headers: customer.headers,
    });
    expect(detail.json()).toEqual(body.payment);
    // Paying does not move the order.
    const view = await t.app.inject({
      method: 'GET',
      url: `/api/orders/${order.id}/`,
      headers: customer.headers,
    });
    expect(view.json()).toMatchObject({ status: 'pending', history: [{ from: null, to: 'pending' }] });
  });

  it('takes the gateway named in the body: {gateway: "sandbox"} is the default spelled out', async () => {
    const order = await newOrder(t, customer.headers);
    const res = await pay(t.app, customer.headers, order.id, { gateway: 'sandbox' });
    expect(res.statusCode).toBe(201);
    expect(res.json().payment.gateway).toBe('sandbox');
  });

  it('answers a second pay while the payment is pending with the same payment (200), writing nothing', async () => {
    const order = await newOrder(t, customer.headers);
    const first = await pay(t.app, customer.headers, order.id);
    expect(first.statusCode).toBe(201);
    const before = await snapshot(t, order.id);
    const second = await pay(t.app, customer.headers, order.id);
    expect(second.statusCode).toBe(200);
    expect(second.json()).toEqual(first.json());
    // The order's id in capitals names the same order.
    const third = await pay(t.app, customer.headers, order.id.toUpperCase());
    expect(third.statusCode).toBe(200);
    expect(third.json()).toEqual(first.json());
    expect(await snapshot(t, order.id)).toEqual(before);
    expect(await paymentsOf(t, order.id)).toHaveLength(1);
  });

  it('makes a new payment (201) once the pending one has failed; the failed one stays as it was', async () => {
    const order = await newOrder(t, customer.headers, '20.00');
    const first = (await pay(t.app, customer.headers, order.id)).json().payment;
    const failed = await deliverWebhook(
      t.app,
      t.deps,
      webhookEvent('payment.failed', { reference: first.reference, amount: first.amount }),
    );
    expect(failed.statusCode).toBe(200);

    const again = await pay(t.app, customer.headers, order.id);
    expect(again.statusCode).toBe(201);
    const second = again.json();
    expect(second.payment).toMatchObject({ status: 'pending', amount: '25.00', order: order.id });
    expect(second.payment.id).not.toBe(first.id);
    expect(second.payment.reference).not.toBe(first.reference);
    expect(second.next_action.url).toBe(`${SITE}/api/payments/sandbox/${second.payment.reference}/`);
    expect(await paymentsOf(t, order.id)).toEqual([
      { id: first.id, status: 'failed', reference: first.reference, amount: '25.00' },
      { id: second.payment.id, status: 'pending', reference: second.payment.reference, amount: '25.00' },
    ]);
    // …and the new pending one is answered from then on.
    const third = await pay(t.app, customer.headers, order.id);
    expect(third.statusCode).toBe(200);
    expect(third.json()).toEqual(second);
  });

  describe('who may pay', () => {
    it("answers another customer's order 404, before and after a payment exists, writing nothing", async () => {
      const order = await newOrder(t, customer.headers);
      let before = await snapshot(t, order.id);
      const res = await pay(t.app, other.headers, order.id);
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual({ detail: 'Not found.' });
      expect(await snapshot(t, order.id)).toEqual(before);

      await pay(t.app, customer.headers, order.id);
      before = await snapshot(t, order.id);
      const later = await pay(t.app, other.headers, order.id);
      expect(later.statusCode).toBe(404);
      expect(later.json()).toEqual({ detail: 'Not found.' });
      expect(await snapshot(t, order.id)).toEqual(before);
    });

    it("answers staff paying another's order 403, writing nothing", async () => {
      const order = await newOrder(t, customer.headers);
      const before = await snapshot(t, order.id);
      const res = await pay(t.app, staff.headers, order.id);
      expect(res.statusCode).toBe(403);
      expect(res.json()).toEqual({ detail: "Only the order's customer can pay for it." });
      expect(await snapshot(t, order.id)).toEqual(before);
    });

    it('lets staff pay their own order', async () => {
      const order = await newOrder(t, staff.headers);
      const res = await pay(t.app, staff.headers, order.id);
      expect(res.statusCode).toBe(201);
      expect(res.json().payment.user).toBe(staff.user.id);
    });

    it('answers anonymous callers and bad tokens 401, writing nothing', async () => {
      const order = await newOrder(t, customer.headers);
      const before = await snapshot(t, order.id);
      const anonymous = await pay(t.app, {}, order.id);
      expect(anonymous.statusCode).toBe(401);
      expect(anonymous.json()).toEqual({ detail: 'Authentication credentials were not provided.' });
      const badToken = await pay(t.app, { authorization: 'Bearer not-a-token' }, order.id);
      expect(badToken.statusCode).toBe(401);
      // An Idempotency-Key does not get an anonymous caller further.
      const keyed = await pay(t.app, { 'idempotency-key': 'anon-key' }, order.id);
      expect(keyed.statusCode).toBe(401);
      expect(await snapshot(t, order.id)).toEqual(before);
    });
  });

  describe('which orders', () => {
    it('answers a malformed or unknown order id 404, and an over-long one 4xx, never 500', async () => {
      const order = await newOrder(t, customer.headers);
      const before = await snapshot(t, order.id);
      for (const id of [
        'not-an-id',
        '123',
        '00000000-0000-0000-0000-000000000000',
        '7c0e1bb4-1a2b-4c3d-8e9f-0123456789ab',
        `${order.id}x`,
        order.id.slice(0, -1),
        "1' OR '1'='1",
      ]) {
        const res = await pay(t.app, customer.headers, encodeURIComponent(id));
        expect(res.statusCode, id).toBe(404);
        expect(res.json()).toEqual({ detail: 'Not found.' });
      }
      const long = await pay(t.app, customer.headers, 'a'.repeat(101));
      expect(long.statusCode).toBeGreaterThanOrEqual(400);
      expect(long.statusCode).toBeLessThan(500);
      expect(await snapshot(t, order.id)).toEqual(before);
    });

    it('answers a cancelled order 409, writing nothing', async () => {
      const order = await newOrder(t, customer.headers);
      const cancelled = await t.app.inject({
        method: 'POST',
        url: `/api/orders/${order.id}/cancel/`,
        headers: customer.headers,
      });
      expect(cancelled.statusCode).toBe(200);
      const before = await snapshot(t, order.id);
      const res = await pay(t.app, customer.headers, order.id);
      expect(res.statusCode).toBe(409);
      expect(res.json()).toEqual({ detail: 'Only a pending order can be paid; this one is cancelled.' });
      expect(await snapshot(t, order.id)).toEqual(before);
      expect(await paymentsOf(t, order.id)).toEqual([]);
    });

    it('answers an order staff confirmed 409, writing nothing', async () => {
      const order = await newOrder(t, customer.headers);
      const confirmed = await t.app.inject({
        method: 'POST',
        url: `/api/orders/${order.id}/status/`,
        headers: staff.headers,
        payload: { status: 'confirmed' },
      });
      expect(confirmed.statusCode).toBe(200);
      const before = await snapshot(t, order.id);
      const res = await pay(t.app, customer.headers, order.id);
      expect(res.statusCode).toBe(409);
      expect(res.json()).toEqual({ detail: 'Only a pending order can be paid; this one is confirmed.' });
      expect(await snapshot(t, order.id)).toEqual(before);
    });

    it('answers an order confirmed by its payment 409: the succeeded payment is the only one', async () => {
      const order = await newOrder(t, customer.headers);
      const payment = (await pay(t.app, customer.headers, order.id)).json().payment;
      const paid = await deliverWebhook(
        t.app,
        t.deps,
        webhookEvent('payment.succeeded', { reference: payment.reference, amount: payment.amount }),
      );
      expect(paid.statusCode).toBe(200);
      const before = await snapshot(t, order.id);
      const res = await pay(t.app, customer.headers, order.id);
      expect(res.statusCode).toBe(409);
      expect(res.json()).toEqual({ detail: 'Only a pending order can be paid; this one is confirmed.' });
      expect(await snapshot(t, order.id)).toEqual(before);
      expect(await paymentsOf(t, order.id)).toEqual([
        { id: payment.id, status: 'succeeded', reference: payment.reference, amount: payment.amount },
      ]);
    });

    it('answers an order with nothing to pay 409, writing nothing', async () => {
      const coupon = await makeCoupon(t.deps, { kind: 'percent', value: '100.00' });
      const { variant } = await makeVariant(t.deps, { price: '9.00', isDigital: true });
      const placed = await placeOrder(t.app, customer.headers, {
        items: [{ variant: variant.id, quantity: 1 }],
        coupon: coupon.code,
      });
      expect(placed.statusCode).toBe(201);
      const order = placed.json<{ id: string; total_amount: string }>();
      expect(order.total_amount).toBe('0.00');
      const before = await snapshot(t, order.id);
      const res = await pay(t.app, customer.headers, order.id);
      expect(res.statusCode).toBe(409);
      expect(res.json()).toEqual({ detail: 'This order has nothing to pay.' });
      expect(await snapshot(t, order.id)).toEqual(before);
    });
  });

  describe('bad input', () => {
    it('answers an unknown gateway 400 on `gateway`, writing nothing', async () => {
      const order = await newOrder(t, customer.headers);
      const before = await snapshot(t, order.id);
      const res = await pay(t.app, customer.headers, order.id, { gateway: 'nope' });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({
        gateway: ['"nope" is not a valid choice. Choose one of: sandbox.'],
      });
      expect(await snapshot(t, order.id)).toEqual(before);
    });

    it('answers a gateway of the wrong type or length 400 on `gateway`, writing nothing', async () => {
      const order = await newOrder(t, customer.headers);
      const before = await snapshot(t, order.id);
      for (const gateway of [5, null, true, ['sandbox'], { name: 'sandbox' }, '', 'x'.repeat(51)]) {
        const res = await pay(t.app, customer.headers, order.id, { gateway });
        expect(res.statusCode, JSON.stringify(gateway)).toBe(400);
        expect(Object.keys(res.json())).toEqual(['gateway']);
      }
      expect(await snapshot(t, order.id)).toEqual(before);
    });

    it('answers a body that is not an object 400, writing nothing', async () => {
      const order = await newOrder(t, customer.headers);
      const before = await snapshot(t, order.id);
      for (const payload of ['[]', '"sandbox"', '42', 'true', '{"gateway":', 'gateway=sandbox']) {
        const res = await t.app.inject({
          method: 'POST',
          url: `/api/orders/${order.id}/pay/`,
          headers: { ...customer.headers, 'content-type': 'application/json' },
          payload,
        });
        expect(res.statusCode, payload).toBe(400);
      }
      const form = await t.app.inject({
        method: 'POST',
        url: `/api/orders/${order.id}/pay/`,
        headers: { ...customer.headers, 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'gateway=sandbox',
      });
      expect(form.statusCode).toBeGreaterThanOrEqual(400);
      expect(form.statusCode).toBeLessThan(500);
      expect(await snapshot(t, order.id)).toEqual(before);
    });

    it('drops unknown fields, as every route does: the payment is made with the default gateway', async () => {
      const order = await newOrder(t, customer.headers);
      const res = await pay(t.app, customer.headers, order.id, {
        amount: '0.01',
        currency: 'EUR',
        status: 'succeeded',
        user: other.user.id,
      });
      expect(res.statusCode).toBe(201);
      expect(res.json().payment).toMatchObject({
        gateway: 'sandbox',
        amount: order.total_amount,
        currency: 'USD',
        status: 'pending',
        user: customer.user.id,
      });
    });

    it('takes an empty body, and none at all, as {}', async () => {
      const first = await newOrder(t, customer.headers);
      const none = await t.app.inject({
        method: 'POST',
        url: `/api/orders/${first.id}/pay/`,
        headers: customer.headers,
      });
      expect(none.statusCode).toBe(201);
      const second = await newOrder(t, customer.headers);
      const empty = await t.app.inject({
        method: 'POST',
        url: `/api/orders/${second.id}/pay/`,
        headers: { ...customer.headers, 'content-type': 'application/json' },
        payload: '{}',
      });
      expect(empty.statusCode).toBe(201);
    });
  });

  describe('Idempotency-Key', () => {
    const keyed = (headers: Headers, key: string) => ({ ...headers, 'idempotency-key': key });

    it('replays the same key and body: the first status and body, byte for byte, with Idempotent-Replayed', async () => {
      const order = await newOrder(t, customer.headers);
      const first = await pay(t.app, keyed(customer.headers, 'pay-replay'), order.id, { gateway: 'sandbox' });
      expect(first.statusCode).toBe(201);
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      const before = await snapshot(t, order.id);
      const second = await pay(t.app, keyed(customer.headers, 'pay-replay'), order.id, {
        gateway: 'sandbox',
      });
      expect(second.statusCode).toBe(201);
      expect(second.headers['idempotent-replayed']).toBe('true');
      expect(second.body).toBe(first.body);
      expect(await snapshot(t, order.id)).toEqual(before);
      // Without the key the pending payment is answered as usual: 200, the same payment.
      const plain = await pay(t.app, customer.headers, order.id, { gateway: 'sandbox' });
      expect(plain.statusCode).toBe(200);
      expect(plain.headers['idempotent-replayed']).toBeUndefined();
      expect(plain.json()).toEqual(first.json());
      expect(await paymentsOf(t, order.id)).toHaveLength(1);
    });

    it('answers the same key with another body 422, writing nothing', async () => {
      const order = await newOrder(t, customer.headers);
      const first = await pay(t.app, keyed(customer.headers, 'pay-other-body'), order.id, {});
      expect(first.statusCode).toBe(201);
      const before = await snapshot(t, order.id);
      const res = await pay(t.app, keyed(customer.headers, 'pay-other-body'), order.id, {
        gateway: 'sandbox',
      });
      expect(res.statusCode).toBe(422);
      expect(res.json()).toEqual({ detail: 'This Idempotency-Key was used with a different request.' });
      expect(await snapshot(t, order.id)).toEqual(before);
    });

    it('keeps a key per order: the same key on another order pays that order', async () => {
      const one = await newOrder(t, customer.headers);
      const two = await newOrder(t, customer.headers);
      const first = await pay(t.app, keyed(customer.headers, 'pay-other-order'), one.id);
      const second = await pay(t.app, keyed(customer.headers, 'pay-other-order'), two.id);
      expect([first.statusCode, second.statusCode]).toEqual([201, 201]);
      expect(second.headers['idempotent-replayed']).toBeUndefined();
      expect(second.json().payment.order).toBe(two.id);
      expect(second.json().payment.id).not.toBe(first.json().payment.id);
    });

    it("keeps one customer's key apart from another's", async () => {
      const mine = await newOrder(t, customer.headers);
      await pay(t.app, keyed(customer.headers, 'pay-shared'), mine.id);
      const before = await snapshot(t, mine.id);
      const theirs = await pay(t.app, keyed(other.headers, 'pay-shared'), mine.id);
      expect(theirs.statusCode).toBe(404);
      expect(theirs.headers['idempotent-replayed']).toBeUndefined();
      expect(await snapshot(t, mine.id)).toEqual(before);
    });

    it('keeps no refusal: after a 400 the key is free, and the fixed request is made', async () => {
      const order = await newOrder(t, customer.headers);
      const bad = await pay(t.app, keyed(customer.headers, 'pay-retry'), order.id, { gateway: 'nope' });
      expect(bad.statusCode).toBe(400);
      const [kept] = await queryRows<{ n: number }>(
        t.deps.db,
        sql`SELECT count(*)::int AS n FROM idempotency_keys WHERE key = 'pay-retry'`,
      );
      expect(kept!.n).toBe(0);
      // The fixed request, another body under the same key, is a first request: not a 422.
      const fixed = await pay(t.app, keyed(customer.headers, 'pay-retry'), order.id, { gateway: 'sandbox' });
      expect(fixed.statusCode).toBe(201);
      expect(fixed.headers['idempotent-replayed']).toBeUndefined();
    });

    it('answers a malformed key 400, writing nothing', async () => {
      const order = await newOrder(t, customer.headers);
      const before = await snapshot(t, order.id);
      for (const key of ['', 'x'.repeat(256), 'clé']) {
        const res = await pay(t.app, keyed(customer.headers, key), order.id);
        expect(res.statusCode, key).toBe(400);
        expect(Object.keys(res.json())).toEqual(['Idempotency-Key']);
      }
      expect(await snapshot(t, order.id)).toEqual(before);
    });
  });
});

describe.each([
  ['PAYMENT_GATEWAYS set empty', { PAYMENT_GATEWAYS: '' }],
  ['production, PAYMENT_GATEWAYS unset', { NODE_ENV: 'production', PAYMENT_GATEWAYS: undefined }],
])('paying with no gateway enabled (%s)', (_name, env) => {
  let t: TestApp;
  let customer: Customer;
  beforeAll(async () => {
    t = await createTestApp({ env });
    customer = await signedInUser(t.app, t.deps);
  });
  afterAll(() => t.close());

  it('answers 400 on `gateway`, by default and when the sandbox is named, writing nothing', async () => {
    expect(t.config.payments.gateways).toEqual([]);
    const order = await newOrder(t, customer.headers);
    const before = await snapshot(t, order.id);
    for (const body of [{}, { gateway: 'sandbox' }]) {
      const res = await pay(t.app, customer.headers, order.id, body);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ gateway: ['No payment gateway is enabled.'] });
    }
    expect(await snapshot(t, order.id)).toEqual(before);
  });
});

describe.skipIf(!postgres)(
  'two API processes on one PostgreSQL database (skipped on PGlite: it runs one transaction at a time, so nothing interleaves)',
  () => {
    let a: TestApp;
    let b: TestApp;
    beforeAll(async () => {
      a = await createTestApp();
      b = await createTestApp({ database: a.database, redisPrefix: a.redisPrefix });
    });
    afterAll(async () => {
      await b?.close();
      await a?.close();
    });

    const app = (i: number): FastifyInstance => (i % 2 === 0 ? a.app : b.app);

    it('10 concurrent pays of one order: one payment, one 201 and nine 200, all naming it', async () => {
      const customer = await signedInUser(a.app, a.deps);
      const order = await newOrder(a, customer.headers);
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, i) => pay(app(i), customer.headers, order.id)),
      );
      expect(answers.map((r) => r.statusCode).sort()).toEqual([...Array(9).fill(200), 201]);
      const stored = await paymentsOf(a, order.id);
      expect(stored).toHaveLength(1);
      for (const r of answers) {
        expect(r.json().payment).toMatchObject({ id: stored[0]!.id, reference: stored[0]!.reference });
        expect(r.json().next_action.url).toMatch(
          new RegExp(`/api/payments/sandbox/${stored[0]!.reference}/$`),
        );
      }
    });

    it('10 concurrent pays after a failed payment: one new payment, one 201 and nine 200', async () => {
      const customer = await signedInUser(a.app, a.deps);
      const order = await newOrder(a, customer.headers);
      const first = (await pay(a.app, customer.headers, order.id)).json().payment;
      const failed = await deliverWebhook(
        b.app,
        b.deps,
        webhookEvent('payment.failed', { reference: first.reference, amount: first.amount }),
      );
      expect(failed.statusCode).toBe(200);
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, i) => pay(app(i), customer.headers, order.id)),
      );
      expect(answers.filter((r) => r.statusCode === 201)).toHaveLength(1);
      expect(answers.filter((r) => r.statusCode === 200)).toHaveLength(9);
      const stored = await paymentsOf(a, order.id);
      expect(stored.map((p) => p.status)).toEqual(['failed', 'pending']);
      for (const r of answers) expect(r.json().payment.id).toBe(stored[1]!.id);
    });
  },
);
