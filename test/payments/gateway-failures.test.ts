/**
 * When the gateway or the database fails around a gateway's call: a refund whose transaction fails
 * after the gateway accepted it (a lock timeout, a crash before commit) rolls back and releases its
 * Idempotency-Key, and the client's retry asks the gateway again with the same refund key, so a real
 * gateway (which dedupes on that key) gives the money back once and the database records it once; a
 * gateway that cannot start a payment is a 502 with nothing written.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sandbox } from '../../src/modules/payments/gateways/sandbox.js';
import { queryRows } from '../../src/platform/db/client.js';
import { signedInUser } from '../helpers/accounts.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { makeVariant, placeOrder } from '../helpers/commerce.js';
import { deliverWebhook, pay, webhookEvent } from '../helpers/payments.js';

describe('gateway calls that fail, or whose transaction fails', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('asks the gateway with the same key both times and records one refund', async () => {
    const customer = await signedInUser(t.app, t.deps);
    const staff = await signedInUser(t.app, t.deps, { isStaff: true });
    const { variant } = await makeVariant(t.deps, { price: '10.00', isDigital: true });
    const order = (
      await placeOrder(t.app, customer.headers, { items: [{ variant: variant.id, quantity: 1 }] })
    ).json<{
      id: string;
    }>();
    const payment = (await pay(t.app, customer.headers, order.id)).json<{
      payment: { id: number; reference: string; amount: string };
    }>().payment;
    const settled = webhookEvent('payment.succeeded', {
      reference: payment.reference,
      amount: payment.amount,
    });
    expect((await deliverWebhook(t.app, t.deps, settled)).statusCode).toBe(200);

    const keys: string[] = [];
    const refund = vi.spyOn(sandbox, 'refund');
    refund.mockImplementation((deps, request) => {
      keys.push(request.refundKey);
      return Promise.resolve({ reference: `sbx_re_${request.refundKey}` });
    });
    // The refund's row cannot be written the first time: the transaction fails after the gateway's call.
    await t.deps.db.execute(sql`CREATE FUNCTION refuse_refund() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'the database went away'; END $$`);
    await t.deps.db.execute(
      sql`CREATE TRIGGER refuse_refund BEFORE INSERT ON refunds FOR EACH ROW EXECUTE FUNCTION refuse_refund()`,
    );
    const request = {
      method: 'POST' as const,
      url: `/api/payments/${payment.id}/refund/`,
      headers: { ...staff.headers, 'idempotency-key': 'refund-once' },
      payload: { amount: '4.00' },
    };
    try {
      expect((await t.app.inject(request)).statusCode).toBe(500);
      await t.deps.db.execute(sql`DROP TRIGGER refuse_refund ON refunds`);
      const retried = await t.app.inject(request);
      expect(retried.statusCode).toBe(200);
      expect(retried.json()).toMatchObject({ refunded_amount: '4.00', status: 'succeeded' });
    } finally {
      refund.mockRestore();
      await t.deps.db.execute(sql`DROP TRIGGER IF EXISTS refuse_refund ON refunds`);
      await t.deps.db.execute(sql`DROP FUNCTION IF EXISTS refuse_refund()`);
    }
    expect(keys).toHaveLength(2);
    expect(keys[1]).toBe(keys[0]);
    const rows = await queryRows(
      t.deps.db,
      sql`SELECT amount::text AS amount, reference FROM refunds WHERE payment_id = ${payment.id}`,
    );
    expect(rows).toEqual([{ amount: '4.00', reference: `sbx_re_${keys[0]}` }]);
  });

  it('a gateway that cannot start a payment: 502, no payment written, the order still payable', async () => {
    const customer = await signedInUser(t.app, t.deps);
    const { variant } = await makeVariant(t.deps, { price: '10.00', isDigital: true });
    const order = (
      await placeOrder(t.app, customer.headers, { items: [{ variant: variant.id, quantity: 1 }] })
    ).json<{
      id: string;
    }>();
    const start = vi.spyOn(sandbox, 'createPayment').mockRejectedValueOnce(new Error('connection reset'));
    try {
      const refused = await pay(t.app, customer.headers, order.id);
      expect(refused.statusCode).toBe(502);
      expect(refused.json()).toEqual({
        detail: 'The payment gateway could not start the payment; try again.',
      });
    } finally {
      start.mockRestore();
    }
    const written = await queryRows(t.deps.db, sql`SELECT id FROM payments WHERE order_id = ${order.id}`);
    expect(written).toEqual([]);
    expect((await pay(t.app, customer.headers, order.id)).statusCode).toBe(201);
  });
});
