/**
 * Issue 11, acceptance 2 and 7 for the sandbox bank, `POST /api/payments/sandbox/<reference>/`
 * (SPEC §6): `succeeded` → 202, then, once the bank's job has delivered its event, the payment
 * `succeeded`, the order `confirmed` with one history step by the system; `failed` → the payment
 * failed, the order still pending and payable again; an outcome for a settled payment 409; the
 * permissions matrix (the payment's customer or staff; anyone else 404, anonymous 401); bad
 * outcomes 400, nothing enqueued. The event goes through the webhook route's own verification and
 * handling: signed with the first of the secrets configured at delivery time, refused when its
 * bytes do not match its signature, recorded in `webhook_events` (so the route, given the same
 * delivery, does nothing more).
 */
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { sandbox } from '../../src/modules/payments/gateways/sandbox.js';
import { SIGNATURE_HEADER, signatureValid } from '../../src/modules/payments/nexus-webhook.js';
import { queryRows } from '../../src/platform/db/client.js';
import { signedInUser } from '../helpers/accounts.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { makeVariant, placeOrder, stockOf } from '../helpers/commerce.js';
import { settleJobs } from '../helpers/jobs.js';
import { pay } from '../helpers/payments.js';

const postgres = Boolean(process.env.DATABASE_URL);
const SECRET_A = 'whsec_first_secret_0123456789abcdef';
const SECRET_B = 'whsec_second_secret_0123456789abcdef';
const SECRET_C = 'whsec_rotated_secret_0123456789abcdef';
const ACCEPTED = {
  detail: 'The bank will post the outcome to the webhook shortly.',
  event: expect.any(String),
};

type Headers = Record<string, string>;
type Customer = Awaited<ReturnType<typeof signedInUser>>;
interface PaymentOut {
  id: number;
  reference: string;
  amount: string;
  status: string;
}

/** The bank's page: `POST /api/payments/sandbox/<reference>/`. */
const outcome = (app: FastifyInstance, headers: Headers, reference: string, body?: unknown) =>
  app.inject({
    method: 'POST',
    url: `/api/payments/sandbox/${reference}/`,
    headers,
    ...(body === undefined ? {} : { payload: body as object }),
  });

/** A pending order of one line at 10.00 (15.00 with shipping) and its pending payment. */
async function paymentFor(t: TestApp, headers: Headers, app: FastifyInstance = t.app) {
  const { variant } = await makeVariant(t.deps, { price: '10.00', stock: 10 });
  const placed = await placeOrder(app, headers, { items: [{ variant: variant.id, quantity: 1 }] });
  expect(placed.statusCode).toBe(201);
  const order = placed.json<{ id: string; total_amount: string }>();
  const paid = await pay(app, headers, order.id);
  expect(paid.statusCode).toBe(201);
  return { order, payment: paid.json<{ payment: PaymentOut }>().payment, variantId: variant.id };
}

/** The payment, its order and history, its webhook events and the bank's jobs, as stored. */
async function stateOf(t: TestApp, orderId: string, reference: string) {
  const [row] = await queryRows<{
    payment: string;
    order: string;
    history: Array<{ from: string | null; to: string; by: number | null; reason: string }>;
    events: Array<{ gateway: string; event_id: string; type: string; outcome: string; payload: unknown }>;
    jobs: number;
  }>(
    t.deps.db,
    sql`SELECT (SELECT status FROM payments WHERE reference = ${reference}) AS payment,
               (SELECT status FROM orders WHERE id = ${orderId}) AS "order",
               (SELECT json_agg(json_build_object('from', from_status, 'to', to_status, 'by', actor_id,
                                                  'reason', reason) ORDER BY id)
                  FROM order_history WHERE order_id = ${orderId}) AS history,
               (SELECT coalesce(json_agg(json_build_object('gateway', gateway, 'event_id', event_id,
                                                           'type', type, 'outcome', outcome,
                                                           'payload', payload) ORDER BY received_at), '[]')
                  FROM webhook_events WHERE payload->'data'->>'reference' = ${reference}) AS events,
               (SELECT count(*)::int FROM jobs
                  WHERE name = 'deliver_sandbox_event' AND payload->'event'->>'reference' = ${reference}) AS jobs`,
  );
  return row!;
}

describe('the sandbox bank', () => {
  let t: TestApp;
  let customer: Customer;
  let other: Customer;
  let staff: Customer;
  beforeAll(async () => {
    t = await createTestApp();
    customer = await signedInUser(t.app, t.deps);
    other = await signedInUser(t.app, t.deps);
    staff = await signedInUser(t.app, t.deps, { isStaff: true });
  });
  afterAll(() => t.close());

  it('succeeded → 202; once delivered: payment succeeded, order confirmed, one history step by the system', async () => {
    const { order, payment, variantId } = await paymentFor(t, customer.headers);
    const stock = await stockOf(t.deps, variantId);
    const res = await outcome(t.app, customer.headers, payment.reference, { outcome: 'succeeded' });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual(ACCEPTED);
    const eventId = res.json<{ event: string }>().event;
    expect(eventId).toMatch(/^evt_[0-9a-f]{24}$/);
    await settleJobs(t.deps);

    const detail = await t.app.inject({
      method: 'GET',
      url: `/api/payments/${payment.id}/`,
      headers: customer.headers,
    });
    expect(detail.json()).toMatchObject({
      id: payment.id,
      status: 'succeeded',
      amount: '15.00',
      refunded_amount: '0.00',
    });
    const view = await t.app.inject({
      method: 'GET',
      url: `/api/orders/${order.id}/`,
      headers: customer.headers,
    });
    expect(view.json().status).toBe('confirmed');
    expect(view.json().history).toEqual([
      { from: null, to: 'pending', at: expect.any(String), by: customer.user.id, reason: 'order placed' },
      {
        from: 'pending',
        to: 'confirmed',
        at: expect.any(String),
        by: null,
        reason: `payment ${payment.id} succeeded`,
      },
    ]);
    // Handled as a webhook event: recorded under the event id the bank answered, once.
    const state = await stateOf(t, order.id, payment.reference);
    expect(state.events).toEqual([
      {
        gateway: 'sandbox',
        event_id: eventId,
        type: 'payment.succeeded',
        outcome: 'confirmed',
        payload: {
          id: eventId,
          type: 'payment.succeeded',
          data: { reference: payment.reference, amount: '15.00', currency: 'USD' },
        },
      },
    ]);
    expect(state.jobs).toBe(1);
    // A confirmation keeps the stock the order took; nothing is refunded.
    expect(await stockOf(t.deps, variantId)).toBe(stock);
    const [refunds] = await queryRows<{ n: number }>(
      t.deps.db,
      sql`SELECT count(*)::int AS n FROM refunds WHERE payment_id = ${payment.id}`,
    );
    expect(refunds!.n).toBe(0);
  });

  it('failed → payment failed, order still pending; paying again gives a new payment, which can succeed', async () => {
    const { order, payment, variantId } = await paymentFor(t, customer.headers);
    const stock = await stockOf(t.deps, variantId);
    const res = await outcome(t.app, customer.headers, payment.reference, { outcome: 'failed' });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual(ACCEPTED);
    await settleJobs(t.deps);

    const failed = await stateOf(t, order.id, payment.reference);
    expect(failed).toMatchObject({
      payment: 'failed',
      order: 'pending',
      history: [{ from: null, to: 'pending' }],
      events: [{ gateway: 'sandbox', event_id: res.json().event, type: 'payment.failed', outcome: 'failed' }],
    });
    expect(await stockOf(t.deps, variantId)).toBe(stock);

    const again = await pay(t.app, customer.headers, order.id);
    expect(again.statusCode).toBe(201);
    const second = again.json<{ payment: PaymentOut; next_action: { url: string } }>();
    expect(second.payment.id).not.toBe(payment.id);
    expect(second.payment.status).toBe('pending');
    expect(second.next_action.url).toMatch(new RegExp(`/api/payments/sandbox/${second.payment.reference}/$`));

    const paid = await outcome(t.app, customer.headers, second.payment.reference, { outcome: 'succeeded' });
    expect(paid.statusCode).toBe(202);
    await settleJobs(t.deps);
    expect(await stateOf(t, order.id, second.payment.reference)).toMatchObject({
      payment: 'succeeded',
      order: 'confirmed',
      history: [
        { from: null, to: 'pending' },
        { from: 'pending', to: 'confirmed', by: null, reason: `payment ${second.payment.id} succeeded` },
      ],
    });
    // The failed attempt stays failed.
    expect((await stateOf(t, order.id, payment.reference)).payment).toBe('failed');
  });

  it('answers an outcome for a payment already settled 409, enqueuing nothing', async () => {
    for (const first of ['succeeded', 'failed'] as const) {
      const { order, payment } = await paymentFor(t, customer.headers);
      expect((await outcome(t.app, customer.headers, payment.reference, { outcome: first })).statusCode).toBe(
        202,
      );
      await settleJobs(t.deps);
      const before = await stateOf(t, order.id, payment.reference);
      for (const second of ['succeeded', 'failed']) {
        const res = await outcome(t.app, customer.headers, payment.reference, { outcome: second });
        expect(res.statusCode).toBe(409);
        expect(res.json()).toEqual({ detail: `This payment is already ${first}.` });
      }
      await settleJobs(t.deps);
      expect(await stateOf(t, order.id, payment.reference)).toEqual(before);
    }
  });

  describe('who may post an outcome', () => {
    it('answers another customer 404, before and after the payment settled, enqueuing nothing', async () => {
      const { order, payment } = await paymentFor(t, customer.headers);
      const before = await stateOf(t, order.id, payment.reference);
      const res = await outcome(t.app, other.headers, payment.reference, { outcome: 'succeeded' });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual({ detail: 'Not found.' });
      await settleJobs(t.deps);
      expect(await stateOf(t, order.id, payment.reference)).toEqual(before);
      expect(before).toMatchObject({ payment: 'pending', order: 'pending', jobs: 0, events: [] });

      await outcome(t.app, customer.headers, payment.reference, { outcome: 'failed' });
      await settleJobs(t.deps);
      // Settled or not, another customer learns nothing: 404, not 409.
      const later = await outcome(t.app, other.headers, payment.reference, { outcome: 'succeeded' });
      expect(later.statusCode).toBe(404);
    });

    it("lets staff post the outcome of a customer's payment: 202, and it confirms the order", async () => {
      const { order, payment } = await paymentFor(t, customer.headers);
      const res = await outcome(t.app, staff.headers, payment.reference, { outcome: 'succeeded' });
      expect(res.statusCode).toBe(202);
      expect(res.json()).toEqual(ACCEPTED);
      await settleJobs(t.deps);
      expect(await stateOf(t, order.id, payment.reference)).toMatchObject({
        payment: 'succeeded',
        order: 'confirmed',
        history: [{ to: 'pending' }, { from: 'pending', to: 'confirmed', by: null }],
      });
    });

    it('answers anonymous callers and bad tokens 401, enqueuing nothing', async () => {
      const { order, payment } = await paymentFor(t, customer.headers);
      const before = await stateOf(t, order.id, payment.reference);
      const anonymous = await outcome(t.app, {}, payment.reference, { outcome: 'succeeded' });
      expect(anonymous.statusCode).toBe(401);
      expect(anonymous.json()).toEqual({ detail: 'Authentication credentials were not provided.' });
      const badToken = await outcome(t.app, { authorization: 'Bearer nope' }, payment.reference, {
        outcome: 'succeeded',
      });
      expect(badToken.statusCode).toBe(401);
      // Even with a bad body, the caller is asked who they are first.
      expect((await outcome(t.app, {}, payment.reference, { outcome: 'maybe' })).statusCode).toBe(401);
      await settleJobs(t.deps);
      expect(await stateOf(t, order.id, payment.reference)).toEqual(before);
    });
  });

  describe('bad input', () => {
    it('answers an unknown reference 404 and an over-long one 4xx, never 500', async () => {
      const { order, payment } = await paymentFor(t, customer.headers);
      const before = await stateOf(t, order.id, payment.reference);
      for (const reference of [
        'sbx_000000000000000000000000',
        `${payment.reference}0`,
        payment.reference.toUpperCase(),
        '1',
        encodeURIComponent("' OR '1'='1"),
      ]) {
        for (const headers of [customer.headers, staff.headers]) {
          const res = await outcome(t.app, headers, reference, { outcome: 'succeeded' });
          expect(res.statusCode, reference).toBe(404);
          expect(res.json()).toEqual({ detail: 'Not found.' });
        }
      }
      const long = await outcome(t.app, customer.headers, 'x'.repeat(101), { outcome: 'succeeded' });
      expect(long.statusCode).toBeGreaterThanOrEqual(400);
      expect(long.statusCode).toBeLessThan(500);
      await settleJobs(t.deps);
      expect(await stateOf(t, order.id, payment.reference)).toEqual(before);
    });

    it('answers a bad or missing outcome 400 on `outcome`, enqueuing nothing', async () => {
      const { order, payment } = await paymentFor(t, customer.headers);
      const before = await stateOf(t, order.id, payment.reference);
      for (const body of [
        { outcome: 'maybe' },
        { outcome: 'SUCCEEDED' },
        { outcome: 'refunded' },
        { outcome: '' },
        { outcome: true },
        { outcome: 1 },
        { outcome: null },
        { outcome: ['succeeded'] },
        {},
        { result: 'succeeded' },
      ]) {
        const res = await outcome(t.app, customer.headers, payment.reference, body);
        expect(res.statusCode, JSON.stringify(body)).toBe(400);
        expect(Object.keys(res.json()), JSON.stringify(body)).toEqual(['outcome']);
      }
      await settleJobs(t.deps);
      expect(await stateOf(t, order.id, payment.reference)).toEqual(before);
    });

    it('answers a body that is absent or not an object 400, enqueuing nothing', async () => {
      const { order, payment } = await paymentFor(t, customer.headers);
      const before = await stateOf(t, order.id, payment.reference);
      const absent = await outcome(t.app, customer.headers, payment.reference);
      expect(absent.statusCode).toBe(400);
      for (const payload of ['[]', '"succeeded"', '42', 'null', '{"outcome":']) {
        const res = await t.app.inject({
          method: 'POST',
          url: `/api/payments/sandbox/${payment.reference}/`,
          headers: { ...customer.headers, 'content-type': 'application/json' },
          payload,
        });
        expect(res.statusCode, payload).toBe(400);
      }
      const form = await t.app.inject({
        method: 'POST',
        url: `/api/payments/sandbox/${payment.reference}/`,
        headers: { ...customer.headers, 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'outcome=succeeded',
      });
      expect(form.statusCode).toBeGreaterThanOrEqual(400);
      expect(form.statusCode).toBeLessThan(500);
      await settleJobs(t.deps);
      expect(await stateOf(t, order.id, payment.reference)).toEqual(before);
    });

    it("drops unknown fields: the event carries the payment's own amount and currency whatever is sent", async () => {
      const { order, payment } = await paymentFor(t, customer.headers);
      const res = await outcome(t.app, customer.headers, payment.reference, {
        outcome: 'succeeded',
        amount: '0.01',
        currency: 'EUR',
        reference: 'sbx_other',
      });
      expect(res.statusCode).toBe(202);
      await settleJobs(t.deps);
      const state = await stateOf(t, order.id, payment.reference);
      expect(state).toMatchObject({ payment: 'succeeded', order: 'confirmed' });
      expect(state.events).toHaveLength(1);
      expect(state.events[0]!.payload).toEqual({
        id: res.json().event,
        type: 'payment.succeeded',
        data: { reference: payment.reference, amount: '15.00', currency: 'USD' },
      });
    });
  });
});

describe("the sandbox's event goes through the webhook route's verification and handling", () => {
  let t: TestApp;
  let customer: Customer;
  beforeAll(async () => {
    // Two secrets, as while one is rotated; no retries, so a refused delivery is final at once.
    t = await createTestApp({
      env: { PAYMENT_WEBHOOK_SECRET: `${SECRET_A}, ${SECRET_B}`, JOB_MAX_RETRIES: '0' },
    });
    customer = await signedInUser(t.app, t.deps);
  });
  afterAll(() => t.close());
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('with two secrets configured, the event is signed with the first, verifies, and confirms the order', async () => {
    expect(t.config.payments.webhookSecrets).toEqual([SECRET_A, SECRET_B]);
    const verify = vi.spyOn(sandbox, 'verifyWebhook');
    const { order, payment } = await paymentFor(t, customer.headers);
    const res = await outcome(t.app, customer.headers, payment.reference, { outcome: 'succeeded' });
    expect(res.statusCode).toBe(202);
    await settleJobs(t.deps);

    expect(verify).toHaveBeenCalledTimes(1);
    const [, rawBody, headers] = verify.mock.calls[0]!;
    expect(verify.mock.results[0]).toMatchObject({ type: 'return', value: { ok: true } });
    expect(JSON.parse(rawBody.toString('utf8'))).toEqual({
      id: res.json().event,
      type: 'payment.succeeded',
      data: { reference: payment.reference, amount: '15.00', currency: 'USD' },
    });
    const header = headers[SIGNATURE_HEADER] as string;
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(signatureValid(header, [SECRET_A], rawBody, new Date())).toBe(true);
    expect(signatureValid(header, [SECRET_B], rawBody, new Date())).toBe(false);
    expect(await stateOf(t, order.id, payment.reference)).toMatchObject({
      payment: 'succeeded',
      order: 'confirmed',
      events: [{ gateway: 'sandbox', event_id: res.json().event, outcome: 'confirmed' }],
    });

    // The very delivery, sent to the webhook route, is accepted and found handled: nothing more happens.
    const before = await stateOf(t, order.id, payment.reference);
    const redelivered = await t.app.inject({
      method: 'POST',
      url: '/api/payments/webhooks/sandbox/',
      headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: header },
      payload: rawBody,
    });
    expect(redelivered.statusCode).toBe(200);
    expect(redelivered.json()).toEqual({ received: true });
    await settleJobs(t.deps);
    expect(await stateOf(t, order.id, payment.reference)).toEqual(before);
  });

  it('signs with the secrets configured at delivery time, not when the payment was made', async () => {
    const { order, payment } = await paymentFor(t, customer.headers);
    const secrets = t.deps.config.payments.webhookSecrets;
    const verify = vi.spyOn(sandbox, 'verifyWebhook');
    t.deps.config.payments.webhookSecrets = [SECRET_C];
    try {
      const res = await outcome(t.app, customer.headers, payment.reference, { outcome: 'succeeded' });
      expect(res.statusCode).toBe(202);
      await settleJobs(t.deps);
    } finally {
      t.deps.config.payments.webhookSecrets = secrets;
    }
    const [, rawBody, headers] = verify.mock.calls[0]!;
    const header = headers[SIGNATURE_HEADER] as string;
    expect(signatureValid(header, [SECRET_C], rawBody, new Date())).toBe(true);
    expect(signatureValid(header, [SECRET_A, SECRET_B], rawBody, new Date())).toBe(false);
    expect(await stateOf(t, order.id, payment.reference)).toMatchObject({
      payment: 'succeeded',
      order: 'confirmed',
    });
  });

  it('a delivery whose bytes do not match its signature is refused and changes nothing; posting again settles', async () => {
    const { order, payment } = await paymentFor(t, customer.headers);
    // The real verification, given the body one byte longer than the one signed.
    const original = sandbox.verifyWebhook.bind(sandbox);
    const tampered = vi
      .spyOn(sandbox, 'verifyWebhook')
      .mockImplementationOnce((deps, rawBody, headers) =>
        original(deps, Buffer.concat([rawBody, Buffer.from(' ')]), headers),
      );
    const res = await outcome(t.app, customer.headers, payment.reference, { outcome: 'succeeded' });
    expect(res.statusCode).toBe(202);
    await settleJobs(t.deps);
    expect(tampered).toHaveBeenCalledTimes(1);
    expect(tampered.mock.results[0]).toMatchObject({
      type: 'return',
      value: { ok: false, reason: 'signature' },
    });
    expect(await stateOf(t, order.id, payment.reference)).toMatchObject({
      payment: 'pending',
      order: 'pending',
      history: [{ from: null, to: 'pending' }],
      events: [],
    });
    const [job] = await queryRows<{ status: string; last_error: string | null }>(
      t.deps.db,
      sql`SELECT status, last_error FROM jobs
          WHERE name = 'deliver_sandbox_event' AND payload->'event'->>'reference' = ${payment.reference}`,
    );
    expect(job).toMatchObject({ status: 'failed', last_error: expect.stringContaining('Invalid signature') });

    // The payment is still pending: the bank may be asked again, and this time the event verifies.
    const again = await outcome(t.app, customer.headers, payment.reference, { outcome: 'succeeded' });
    expect(again.statusCode).toBe(202);
    await settleJobs(t.deps);
    expect(await stateOf(t, order.id, payment.reference)).toMatchObject({
      payment: 'succeeded',
      order: 'confirmed',
      events: [{ event_id: again.json().event, outcome: 'confirmed' }],
    });
  });
});

describe('without the sandbox gateway (production, PAYMENT_GATEWAYS unset)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { NODE_ENV: 'production', PAYMENT_GATEWAYS: undefined } });
  });
  afterAll(() => t.close());

  it('has no bank: its page is 404 to anyone', async () => {
    const staff = await signedInUser(t.app, t.deps, { isStaff: true });
    const res = await outcome(t.app, staff.headers, 'sbx_000000000000000000000000', { outcome: 'succeeded' });
    expect(res.statusCode).toBe(404);
    const [jobs] = await queryRows<{ n: number }>(
      t.deps.db,
      sql`SELECT count(*)::int AS n FROM jobs WHERE name = 'deliver_sandbox_event'`,
    );
    expect(jobs!.n).toBe(0);
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

    it('10 outcomes posted at once, mixed, across both: the payment settles once (a failure may precede the success), the rest change nothing', async () => {
      const customer = await signedInUser(a.app, a.deps);
      const { order, payment } = await paymentFor(a, customer.headers);
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          outcome(i % 2 === 0 ? a.app : b.app, customer.headers, payment.reference, {
            outcome: i % 3 === 0 ? 'failed' : 'succeeded',
          }),
        ),
      );
      for (const r of answers) expect([202, 409]).toContain(r.statusCode);
      const accepted = answers
        .filter((r) => r.statusCode === 202)
        .map((r) => r.json<{ event: string }>().event);
      expect(accepted.length).toBeGreaterThanOrEqual(1);
      await settleJobs(a.deps);
      await settleJobs(b.deps);

      const state = await stateOf(a, order.id, payment.reference);
      expect(state.events.map((e) => e.event_id).sort()).toEqual([...accepted].sort());
      // A success after a failure settles the payment again (the money was taken after all), so a
      // `failed` event may come before the one `confirmed`; nothing settles after a success.
      const confirmed = state.events.filter((e) => e.outcome === 'confirmed');
      const failed = state.events.filter((e) => e.outcome === 'failed');
      expect(confirmed.length).toBeLessThanOrEqual(1);
      expect(failed.length).toBeLessThanOrEqual(1);
      expect(confirmed.length + failed.length).toBeGreaterThanOrEqual(1);
      for (const e of state.events.filter((e) => e.outcome !== 'confirmed' && e.outcome !== 'failed'))
        expect(e.outcome).toMatch(/^ignored: payment already (succeeded|failed)$/);
      if (confirmed.length === 1) {
        expect(state).toMatchObject({ payment: 'succeeded', order: 'confirmed' });
        expect(state.history).toHaveLength(2);
      } else {
        expect(state).toMatchObject({ payment: 'failed', order: 'pending' });
        expect(state.history).toHaveLength(1);
      }
    });
  },
);
