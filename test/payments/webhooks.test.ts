/**
 * Issue 11, acceptance 3 (SPEC §6 webhooks), `POST /api/payments/webhooks/<gateway>/`: a missing or
 * bad `Nexus-Signature`, a body changed after signing, or a `t` more than 300 s old or 60 s ahead is
 * a 400 `{"detail": "Invalid signature."}` before any statement reaches the payments, refunds,
 * webhook events or orders tables, and nothing changes; several `v1` values and rotated secrets are
 * accepted; `payment.succeeded` confirms the order once however often it comes, `payment.failed`
 * leaves it payable; an amount or currency mismatch changes nothing and is logged as an error; an
 * unknown reference is acknowledged and changes nothing; an unknown gateway is a 404, a malformed
 * signed body a 400, an oversized one a 413; a payment that succeeds for a cancelled order is
 * refunded at once.
 */
import { asc, eq, sql } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderHistory, orders } from '../../src/modules/orders/tables.js';
import { signatureHeader } from '../../src/modules/payments/nexus-webhook.js';
import { payments, refunds, webhookEvents } from '../../src/modules/payments/tables.js';
import { signedInUser } from '../helpers/accounts.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { makeVariant, placeOrder, stockOf } from '../helpers/commerce.js';
import { settleJobs } from '../helpers/jobs.js';
import { deliverWebhook, pay, webhookEvent } from '../helpers/payments.js';

const INVALID = { detail: 'Invalid signature.' };
const RECEIVED = { received: true };
const WRONG_SECRET = 'wrong-secret-xxxxxxxxxxxxxxxx';

let t: TestApp;
/** The app's clock: real time, unless a test freezes it on a whole second. */
let frozen: Date | null = null;
let recording = false;
const statements: string[] = [];

beforeAll(async () => {
  t = await createTestApp({
    clock: () => frozen ?? new Date(),
    onQuery: (q) => {
      if (recording) statements.push(q);
    },
  });
});
afterAll(() => t.close());

/** Now, on a whole second, as the app's clock until the test ends. */
function freezeClock(): Date {
  frozen = new Date(Math.floor(Date.now() / 1000) * 1000);
  return frozen;
}
const seconds = (from: Date, s: number) => new Date(from.getTime() + s * 1000);

interface Fixture {
  orderId: string;
  paymentId: number;
  variantId: string;
  reference: string;
  amount: string;
  currency: string;
  headers: Record<string, string>;
}

/** A customer's order of two items and its pending sandbox payment. */
async function pendingPayment(): Promise<Fixture> {
  const { headers } = await signedInUser(t.app, t.deps);
  const { variant } = await makeVariant(t.deps, { stock: 5, price: '12.50' });
  const placed = await placeOrder(t.app, headers, { items: [{ variant: variant.id, quantity: 2 }] });
  expect(placed.statusCode).toBe(201);
  const paid = await pay(t.app, headers, placed.json<{ id: string }>().id);
  expect(paid.statusCode).toBe(201);
  const { payment } = paid.json<{
    payment: {
      id: number;
      order: string;
      reference: string;
      amount: string;
      currency: string;
      status: string;
    };
  }>();
  expect(payment.status).toBe('pending');
  return {
    orderId: payment.order,
    paymentId: payment.id,
    variantId: variant.id,
    reference: payment.reference,
    amount: payment.amount,
    currency: payment.currency,
    headers,
  };
}

const eventFor = (f: Fixture, type: string, id?: string) =>
  webhookEvent(type, { reference: f.reference, amount: f.amount, currency: f.currency }, id);

/** Everything a webhook could change for the fixture: its rows and its variant's stock. */
async function stateOf(f: Fixture) {
  const db = t.deps.db;
  const [payment] = await db.select().from(payments).where(eq(payments.id, f.paymentId));
  const [order] = await db.select().from(orders).where(eq(orders.id, f.orderId));
  return {
    payment: payment!,
    order: order!,
    history: await db
      .select()
      .from(orderHistory)
      .where(eq(orderHistory.orderId, f.orderId))
      .orderBy(asc(orderHistory.id)),
    refunds: await db.select().from(refunds).where(eq(refunds.paymentId, f.paymentId)),
    events: await db
      .select()
      .from(webhookEvents)
      .where(sql`${webhookEvents.payload} -> 'data' ->> 'reference' = ${f.reference}`),
    stock: await stockOf(t.deps, f.variantId),
  };
}

/** The order's history as moves, `from→to`. */
const moves = (history: Array<{ fromStatus: string | null; toStatus: string }>) =>
  history.map((h) => `${h.fromStatus ?? ''}→${h.toStatus}`);

/** The job poller's own statements (on the jobs table), which run whatever the request does. */
const fromPoller = (q: string) => /"jobs"/.test(q);
const MONEY_TABLES = /\b(payments|refunds|webhook_events|orders|order_history|order_lines)\b/;

/**
 * The statements the app sent while `work` ran, the poller's left out. Jobs queued by the set-up
 * (the checkout's e-mail reads the order) are finished first, so what remains is the request's.
 */
async function statementsDuring<T>(work: () => Promise<T>): Promise<{ result: T; sent: string[] }> {
  await settleJobs(t.deps);
  statements.length = 0;
  recording = true;
  try {
    const result = await work();
    return { result, sent: statements.filter((q) => !fromPoller(q)) };
  } finally {
    recording = false;
  }
}

/** What `work` logged, as parsed pino lines. */
async function logDuring<T>(
  work: () => Promise<T>,
): Promise<{ result: T; logged: Array<Record<string, unknown>> }> {
  const lines: string[] = [];
  const original = t.deps.log;
  t.deps.log = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
  try {
    const result = await work();
    return { result, logged: lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
  } finally {
    t.deps.log = original;
  }
}

describe('a webhook whose signature does not hold: 400, nothing read, nothing changed', () => {
  const refusals: Array<[string, (f: Fixture) => ReturnType<typeof deliverWebhook>]> = [
    [
      'no Nexus-Signature header',
      (f) => deliverWebhook(t.app, t.deps, eventFor(f, 'payment.succeeded'), { signature: null }),
    ],
    [
      'a garbage header',
      (f) => deliverWebhook(t.app, t.deps, eventFor(f, 'payment.succeeded'), { signature: 'garbage' }),
    ],
    [
      'a v1 but no t',
      (f) =>
        deliverWebhook(t.app, t.deps, eventFor(f, 'payment.succeeded'), {
          signature: `v1=${'ab'.repeat(32)}`,
        }),
    ],
    [
      'a v1 made with another secret',
      (f) => deliverWebhook(t.app, t.deps, eventFor(f, 'payment.succeeded'), { secrets: [WRONG_SECRET] }),
    ],
    [
      'a body changed after signing (a payment.failed signed, a payment.succeeded sent)',
      (f) => {
        const signed = eventFor(f, 'payment.failed');
        const signature = signatureHeader(
          t.deps.config.payments.webhookSecrets,
          Buffer.from(JSON.stringify(signed)),
          new Date(),
        );
        return deliverWebhook(t.app, t.deps, { ...signed, type: 'payment.succeeded' }, { signature });
      },
    ],
    [
      '`t` 301 s old',
      (f) => {
        const now = freezeClock();
        return deliverWebhook(t.app, t.deps, eventFor(f, 'payment.succeeded'), { at: seconds(now, -301) });
      },
    ],
    [
      '`t` 61 s ahead',
      (f) => {
        const now = freezeClock();
        return deliverWebhook(t.app, t.deps, eventFor(f, 'payment.succeeded'), { at: seconds(now, 61) });
      },
    ],
  ];

  for (const [name, send] of refusals) {
    it(name, async () => {
      const f = await pendingPayment();
      const before = await stateOf(f);
      try {
        const { result: res, sent } = await statementsDuring(() => send(f));
        expect(res.statusCode).toBe(400);
        expect(res.json()).toEqual(INVALID);
        expect(sent.filter((q) => MONEY_TABLES.test(q))).toEqual([]);
        // Nothing at all is read before the signature holds.
        expect(sent).toEqual([]);
      } finally {
        frozen = null;
      }
      expect(await stateOf(f)).toEqual(before);
      expect(before.payment.status).toBe('pending');
      expect(before.order.status).toBe('pending');
    });
  }
});

describe('a webhook whose signature holds', () => {
  it('accepts `t` exactly 300 s old and exactly 60 s ahead', async () => {
    for (const offset of [-300, 60]) {
      const f = await pendingPayment();
      try {
        const now = freezeClock();
        const res = await deliverWebhook(t.app, t.deps, eventFor(f, 'payment.succeeded'), {
          at: seconds(now, offset),
        });
        expect(res.statusCode).toBe(200);
        expect(res.json()).toEqual(RECEIVED);
      } finally {
        frozen = null;
      }
      const after = await stateOf(f);
      expect(after.payment.status).toBe('succeeded');
      expect(after.order.status).toBe('confirmed');
    }
  });

  it('accepts two v1 values of which one is right', async () => {
    const f = await pendingPayment();
    const res = await deliverWebhook(t.app, t.deps, eventFor(f, 'payment.succeeded'), {
      secrets: [WRONG_SECRET, ...t.deps.config.payments.webhookSecrets],
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(RECEIVED);
    const after = await stateOf(f);
    expect(after.payment.status).toBe('succeeded');
    expect(after.order.status).toBe('confirmed');
  });

  it('payment.succeeded with the amount and currency: payment succeeded, order confirmed, one history row; again: nothing more', async () => {
    const f = await pendingPayment();
    const before = await stateOf(f);
    expect(moves(before.history)).toEqual(['→pending']);
    const event = eventFor(f, 'payment.succeeded');

    const { result: first, sent } = await statementsDuring(() => deliverWebhook(t.app, t.deps, event));
    expect(first.statusCode).toBe(200);
    // The recorder the refusals rely on does see the webhook's statements.
    expect(sent.some((q) => /"webhook_events"/.test(q))).toBe(true);
    expect(first.json()).toEqual(RECEIVED);
    const after = await stateOf(f);
    expect(after.payment).toMatchObject({ status: 'succeeded', refundedAmount: '0.00', amount: f.amount });
    expect(after.order.status).toBe('confirmed');
    expect(moves(after.history)).toEqual(['→pending', 'pending→confirmed']);
    expect(after.history[1]).toMatchObject({ actorId: null });
    expect(after.refunds).toEqual([]);
    expect(after.events.map((e) => [e.gateway, e.eventId, e.type])).toEqual([
      ['sandbox', event.id, 'payment.succeeded'],
    ]);
    // Confirming takes no stock back.
    expect(after.stock).toBe(before.stock);

    const again = await deliverWebhook(t.app, t.deps, event);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(RECEIVED);
    expect(await stateOf(f)).toEqual(after);
  });

  it('a second payment.succeeded (another event id) for a payment that succeeded changes nothing', async () => {
    const f = await pendingPayment();
    expect((await deliverWebhook(t.app, t.deps, eventFor(f, 'payment.succeeded'))).statusCode).toBe(200);
    const after = await stateOf(f);
    const other = await deliverWebhook(t.app, t.deps, eventFor(f, 'payment.succeeded'));
    expect(other.statusCode).toBe(200);
    expect(other.json()).toEqual(RECEIVED);
    const later = await stateOf(f);
    expect({ ...later, events: [] }).toEqual({ ...after, events: [] });
    expect(later.events).toHaveLength(2);
  });

  it('verifies the bytes as sent: a pretty-printed body, and a body under another content type', async () => {
    const pretty = await pendingPayment();
    const spaced = await deliverWebhook(
      t.app,
      t.deps,
      JSON.stringify(eventFor(pretty, 'payment.succeeded'), null, 2),
    );
    expect(spaced.statusCode).toBe(200);
    expect((await stateOf(pretty)).payment.status).toBe('succeeded');

    const plain = await pendingPayment();
    const raw = Buffer.from(JSON.stringify(eventFor(plain, 'payment.succeeded')));
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/payments/webhooks/sandbox/',
      headers: {
        'content-type': 'text/plain; charset=utf-8',
        'nexus-signature': signatureHeader(t.deps.config.payments.webhookSecrets, raw, new Date()),
      },
      payload: raw,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(RECEIVED);
    expect((await stateOf(plain)).payment.status).toBe('succeeded');
  });

  it('payment.failed: payment failed, the order still pending, no history row', async () => {
    const f = await pendingPayment();
    const before = await stateOf(f);
    const res = await deliverWebhook(t.app, t.deps, eventFor(f, 'payment.failed'));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(RECEIVED);
    const after = await stateOf(f);
    expect(after.payment.status).toBe('failed');
    expect(after.order).toEqual(before.order);
    expect(after.history).toEqual(before.history);
    expect(after.stock).toBe(before.stock);
    expect(after.refunds).toEqual([]);
    // A success reported after the failure is money taken all the same: it settles the payment.
    expect((await deliverWebhook(t.app, t.deps, eventFor(f, 'payment.succeeded'))).statusCode).toBe(200);
    const later = await stateOf(f);
    expect(later.payment.status).toBe('succeeded');
    expect(later.order.status).toBe('confirmed');
    expect(later.history).toHaveLength(before.history.length + 1);
    expect(later.refunds).toEqual([]);
    // And a failure after a success changes nothing.
    expect((await deliverWebhook(t.app, t.deps, eventFor(f, 'payment.failed'))).statusCode).toBe(200);
    expect((await stateOf(f)).payment.status).toBe('succeeded');
  });

  for (const [what, change] of [
    ['amount', (f: Fixture) => ({ amount: (Number(f.amount) - 0.01).toFixed(2) })],
    ['currency', () => ({ currency: 'EUR' })],
  ] as const) {
    it(`payment.succeeded with the wrong ${what}: 200, nothing changes, an error is logged`, async () => {
      const f = await pendingPayment();
      await settleJobs(t.deps);
      const before = await stateOf(f);
      const event = eventFor(f, 'payment.succeeded');
      const forged = { ...event, data: { ...event.data, ...change(f) } };
      const { result: res, logged } = await logDuring(() => deliverWebhook(t.app, t.deps, forged));
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual(RECEIVED);
      const after = await stateOf(f);
      expect(after.payment).toEqual(before.payment);
      expect(after.order).toEqual(before.order);
      expect(after.history).toEqual(before.history);
      expect(after.refunds).toEqual([]);
      expect(after.stock).toBe(before.stock);
      const errors = logged.filter((l) => l.level === 50);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({
        msg: expect.stringMatching(/amount or currency does not match/),
        payment: f.paymentId,
        expected: [f.amount, f.currency],
        received: [forged.data.amount, forged.data.currency],
      });
    });
  }

  it('an unknown reference: 2xx, nothing changes', async () => {
    const f = await pendingPayment();
    const before = await stateOf(f);
    const count = async () =>
      (await t.deps.db.select({ n: sql<number>`count(*)::int` }).from(payments))[0]!.n;
    const paymentsBefore = await count();
    const res = await deliverWebhook(
      t.app,
      t.deps,
      webhookEvent('payment.succeeded', { reference: 'sbx_nobody_knows_this', amount: f.amount }),
    );
    expect(res.statusCode).toBeGreaterThanOrEqual(200);
    expect(res.statusCode).toBeLessThan(300);
    expect(await stateOf(f)).toEqual(before);
    expect(await count()).toBe(paymentsBefore);
    const known = await t.deps.db
      .select()
      .from(payments)
      .where(eq(payments.reference, 'sbx_nobody_knows_this'));
    expect(known).toEqual([]);
  });

  it('an unknown gateway in the URL: 404, nothing changes', async () => {
    const f = await pendingPayment();
    const before = await stateOf(f);
    const res = await deliverWebhook(t.app, t.deps, eventFor(f, 'payment.succeeded'), { gateway: 'nopay' });
    expect(res.statusCode).toBe(404);
    expect(await stateOf(f)).toEqual(before);
  });

  const malformed: Array<[string, (f: Fixture) => unknown]> = [
    ['not JSON', () => '{"id": "evt_1", "type": '],
    [
      'no data.reference',
      (f) => ({
        id: 'evt_no_reference_1',
        type: 'payment.succeeded',
        data: { amount: f.amount, currency: 'USD' },
      }),
    ],
    ['an unknown type', (f) => eventFor(f, 'payment.captured_maybe')],
  ];
  for (const [name, body] of malformed) {
    it(`a signed body that is malformed (${name}): 400, nothing changes`, async () => {
      const f = await pendingPayment();
      const before = await stateOf(f);
      const res = await deliverWebhook(t.app, t.deps, body(f));
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ detail: expect.any(String) });
      expect(res.json()).not.toEqual(INVALID);
      expect(await stateOf(f)).toEqual(before);
    });
  }

  it('a body over 64 KB: 413, nothing changes', async () => {
    const f = await pendingPayment();
    const before = await stateOf(f);
    const event = eventFor(f, 'payment.succeeded');
    const big = { ...event, padding: 'x'.repeat(64 * 1024) };
    const res = await deliverWebhook(t.app, t.deps, big);
    expect(res.statusCode).toBe(413);
    expect(await stateOf(f)).toEqual(before);
  });

  it('payment.succeeded for an order already cancelled: the payment is refunded in full, the order stays cancelled', async () => {
    const f = await pendingPayment();
    const cancelled = await t.app.inject({
      method: 'POST',
      url: `/api/orders/${f.orderId}/cancel/`,
      headers: f.headers,
    });
    expect(cancelled.statusCode).toBe(200);
    const before = await stateOf(f);
    expect(before.order.status).toBe('cancelled');
    expect(before.payment.status).toBe('pending');

    const res = await deliverWebhook(t.app, t.deps, eventFor(f, 'payment.succeeded'));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(RECEIVED);
    const after = await stateOf(f);
    expect(after.payment).toMatchObject({ status: 'refunded', refundedAmount: f.amount });
    expect(after.refunds).toHaveLength(1);
    expect(after.refunds[0]).toMatchObject({ amount: f.amount, actorId: null });
    expect(after.order).toEqual(before.order);
    expect(after.history).toEqual(before.history);
    // The stock came back with the cancel, and only then.
    expect(after.stock).toBe(before.stock);
  });
});

describe('PAYMENT_WEBHOOK_SECRET with two secrets (rotation)', () => {
  const OLD = 'old-secret-0123456789abcdefghij';
  const NEW = 'new-secret-0123456789abcdefghij';
  let rotated: TestApp;
  beforeAll(async () => {
    rotated = await createTestApp({ env: { PAYMENT_WEBHOOK_SECRET: `${OLD},${NEW}` } });
  });
  afterAll(() => rotated.close());

  async function pendingOn(app: TestApp) {
    const { headers } = await signedInUser(app.app, app.deps);
    const { variant } = await makeVariant(app.deps, { price: '9.00' });
    const placed = await placeOrder(app.app, headers, { items: [{ variant: variant.id, quantity: 1 }] });
    const paid = await pay(app.app, headers, placed.json<{ id: string }>().id);
    expect(paid.statusCode).toBe(201);
    return paid.json<{ payment: { id: number; reference: string; amount: string } }>().payment;
  }
  const statusOf = async (id: number) =>
    (await rotated.deps.db.select().from(payments).where(eq(payments.id, id)))[0]!.status;

  it('accepts events signed with either secret, and refuses any other', async () => {
    expect(rotated.deps.config.payments.webhookSecrets).toEqual([OLD, NEW]);
    for (const secret of [OLD, NEW]) {
      const payment = await pendingOn(rotated);
      const res = await deliverWebhook(
        rotated.app,
        rotated.deps,
        webhookEvent('payment.succeeded', { reference: payment.reference, amount: payment.amount }),
        { secrets: [secret] },
      );
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual(RECEIVED);
      expect(await statusOf(payment.id)).toBe('succeeded');
    }
    const payment = await pendingOn(rotated);
    const res = await deliverWebhook(
      rotated.app,
      rotated.deps,
      webhookEvent('payment.succeeded', { reference: payment.reference, amount: payment.amount }),
      { secrets: ['retired-secret-0123456789abcdefgh'] },
    );
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual(INVALID);
    expect(await statusOf(payment.id)).toBe('pending');
  });
});
