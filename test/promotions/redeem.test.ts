/**
 * Issue 10 (SPEC §6 coupons at checkout): a cart checkout redeems the cart's coupon in the order's
 * transaction (one `held` redemption, `times_used` + 1, the cart emptied of lines and coupon); a
 * coupon that stopped applying between apply and checkout refuses the order with 409
 * `coupon_invalid` and nothing written; a cancel (by the customer or by staff) gives the use back
 * exactly once, so the same or another customer may use it again; an order that goes on along the
 * workflow keeps its use. After every step `times_used` equals the number of held redemptions.
 */
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseCoupon } from '../../src/modules/promotions/redemptions.js';
import { queryRows } from '../../src/platform/db/client.js';
import { transaction } from '../../src/platform/db/transaction.js';
import { signedInUser } from '../helpers/accounts.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { makeVariant, placeOrder, stockOf } from '../helpers/commerce.js';
import { couponState, makeCoupon } from '../helpers/promotions.js';

type Headers = Record<string, string>;

let t: TestApp;
let staff: Headers;
beforeAll(async () => {
  t = await createTestApp();
  staff = (await signedInUser(t.app, t.deps, { isStaff: true })).headers;
});
afterAll(() => t.close());

const REMEDY = ' Remove it from your cart to check out without it.';

const getCart = (app: FastifyInstance, headers: Headers) =>
  app.inject({ method: 'GET', url: '/api/cart/', headers });
const addToCart = (headers: Headers, variant: string, quantity: number) =>
  t.app.inject({ method: 'POST', url: '/api/cart/items/', headers, payload: { variant, quantity } });
const applyCoupon = (headers: Headers, code: string) =>
  t.app.inject({ method: 'POST', url: '/api/cart/coupon/', headers, payload: { code } });
const cancel = (headers: Headers, orderId: string) =>
  t.app.inject({ method: 'POST', url: `/api/orders/${orderId}/cancel/`, headers });
const moveTo = (orderId: string, status: string) =>
  t.app.inject({
    method: 'POST',
    url: `/api/orders/${orderId}/status/`,
    headers: staff,
    payload: { status },
  });

/** A customer whose cart holds `quantity` of `variant` with `code` applied (both calls checked). */
async function cartWithCoupon(variant: string, code: string, quantity = 2) {
  const customer = await signedInUser(t.app, t.deps);
  expect((await addToCart(customer.headers, variant, quantity)).statusCode).toBe(201);
  expect((await applyCoupon(customer.headers, code)).statusCode).toBe(200);
  return customer;
}

/** The coupon's stored state, after checking the invariant: `times_used` = its held redemptions. */
async function consistent(couponId: number) {
  const state = await couponState(t.deps, couponId);
  expect(state.coupon.timesUsed).toBe(state.held.length);
  return state;
}

/** Rows a refused checkout must not have written. */
async function counts(userId: number) {
  const [row] = await queryRows<{
    orders: number;
    lines: number;
    history: number;
    jobs: number;
    uses: number;
  }>(
    t.deps.db,
    sql`SELECT (SELECT count(*)::int FROM orders WHERE user_id = ${userId}) AS orders,
               (SELECT count(*)::int FROM order_lines) AS lines,
               (SELECT count(*)::int FROM order_history) AS history,
               (SELECT count(*)::int FROM jobs WHERE name = 'send_order_confirmation') AS jobs,
               (SELECT count(*)::int FROM coupon_redemptions) AS uses`,
  );
  return row!;
}

describe('checking out a cart with a coupon', () => {
  it('201 with the discount; one held redemption for the order and user; the cart left with nothing', async () => {
    const coupon = await makeCoupon(t.deps, { code: 'REDEEM-CART-1', kind: 'percent', value: '10.00' });
    const { variant } = await makeVariant(t.deps, { stock: 10, price: '20.00' });
    const customer = await cartWithCoupon(variant.id, 'redeem-cart-1', 2);
    expect((await consistent(coupon.id)).coupon.timesUsed).toBe(0);

    const res = await placeOrder(t.app, customer.headers);
    expect(res.statusCode).toBe(201);
    const order = res.json();
    expect(order).toMatchObject({
      status: 'pending',
      coupon_code: 'REDEEM-CART-1',
      subtotal: '40.00',
      discount_amount: '4.00',
      tax_amount: '0.00',
      shipping_amount: '5.00',
      total_amount: '41.00',
    });
    expect(await stockOf(t.deps, variant.id)).toBe(8);

    const state = await consistent(coupon.id);
    expect(state.coupon.timesUsed).toBe(1);
    expect(state.redemptions).toEqual([
      expect.objectContaining({
        couponId: coupon.id,
        orderId: order.id,
        userId: customer.user.id,
        state: 'held',
        releasedAt: null,
      }),
    ]);

    const cart = (await getCart(t.app, customer.headers)).json();
    expect(cart).toMatchObject({ coupon: null, items: [], discount_amount: '0.00', item_count: 0 });
  });
});

describe('a coupon that stopped applying between apply and checkout', () => {
  /** Checks out, expects the 409 with `detail`, and that nothing moved. */
  async function refusedCheckout(
    customer: Awaited<ReturnType<typeof signedInUser>>,
    couponId: number,
    variantId: string,
    detail: string,
  ) {
    const before = await counts(customer.user.id);
    const stock = await stockOf(t.deps, variantId);
    const coupon = await consistent(couponId);

    const res = await placeOrder(t.app, customer.headers);
    expect(res.statusCode).toBe(409);

    expect(await counts(customer.user.id)).toEqual(before);
    expect(await stockOf(t.deps, variantId)).toBe(stock);
    const after = await consistent(couponId);
    expect(after.coupon.timesUsed).toBe(coupon.coupon.timesUsed);
    expect(after.redemptions).toEqual(coupon.redemptions);
    // The cart keeps its lines and its coupon (shown with no discount while it does not apply).
    const cart = (await getCart(t.app, customer.headers)).json();
    expect(cart.items).toHaveLength(1);
    expect(cart.items[0]).toMatchObject({ quantity: 2, variant: expect.objectContaining({ id: variantId }) });
    expect(cart.coupon).toEqual({ code: coupon.coupon.code, kind: 'percent', value: '10.00' });
    expect(cart.discount_amount).toBe('0.00');
    // Last, so that a wrong body does not hide what was (or was not) written.
    expect(res.json()).toEqual({ detail, code: 'coupon_invalid' });
  }

  it('deactivated by staff: 409 coupon_invalid, no order, stock, redemption or cart touched', async () => {
    const coupon = await makeCoupon(t.deps, { code: 'REDEEM-OFF-1' });
    const { variant } = await makeVariant(t.deps, { stock: 10, price: '20.00' });
    const customer = await cartWithCoupon(variant.id, coupon.code);
    const patched = await t.app.inject({
      method: 'PATCH',
      url: `/api/coupons/${coupon.id}/`,
      headers: staff,
      payload: { is_active: false },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ id: coupon.id, is_active: false });

    await refusedCheckout(customer, coupon.id, variant.id, `This coupon is no longer active.${REMEDY}`);
    expect(await stockOf(t.deps, variant.id)).toBe(10);
    expect((await couponState(t.deps, coupon.id)).redemptions).toEqual([]);
  });

  it('max_uses reached by someone else: 409 coupon_invalid, nothing written', async () => {
    const coupon = await makeCoupon(t.deps, { code: 'REDEEM-FULL-1', maxUses: 1 });
    const { variant } = await makeVariant(t.deps, { stock: 10, price: '20.00' });
    const customer = await cartWithCoupon(variant.id, coupon.code);

    const other = await signedInUser(t.app, t.deps);
    const used = await placeOrder(t.app, other.headers, {
      items: [{ variant: variant.id, quantity: 1 }],
      coupon: coupon.code,
    });
    expect(used.statusCode).toBe(201);
    expect(used.json()).toMatchObject({ coupon_code: coupon.code, discount_amount: '2.00' });
    expect((await consistent(coupon.id)).coupon.timesUsed).toBe(1);

    await refusedCheckout(customer, coupon.id, variant.id, `This coupon has been used up.${REMEDY}`);
    expect(await stockOf(t.deps, variant.id)).toBe(9);
    expect((await couponState(t.deps, coupon.id)).held).toEqual([
      expect.objectContaining({ orderId: used.json().id, userId: other.user.id }),
    ]);
  });
});

describe('a cancelled order gives its use back', () => {
  /** Checks the order's redemption was released and the invariant holds; returns the state. */
  async function released(couponId: number, orderId: string) {
    const state = await consistent(couponId);
    const redemption = state.redemptions.find((r) => r.orderId === orderId);
    expect(redemption).toMatchObject({ state: 'released', releasedAt: expect.any(Date) });
    return state;
  }

  it('customer cancel; with max_uses_per_user = 1 the same customer may apply and use it again', async () => {
    const coupon = await makeCoupon(t.deps, { code: 'REDEEM-AGAIN-1', maxUsesPerUser: 1 });
    const { variant } = await makeVariant(t.deps, { stock: 10, price: '20.00' });
    const customer = await cartWithCoupon(variant.id, coupon.code);
    const first = await placeOrder(t.app, customer.headers);
    expect(first.statusCode).toBe(201);
    expect((await consistent(coupon.id)).coupon.timesUsed).toBe(1);

    await addToCart(customer.headers, variant.id, 2);
    const refused = await applyCoupon(customer.headers, coupon.code);
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toEqual({ code: ['You have already used this coupon.'] });
    expect((await consistent(coupon.id)).coupon.timesUsed).toBe(1);

    const cancelled = await cancel(customer.headers, first.json().id);
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json().status).toBe('cancelled');
    expect((await released(coupon.id, first.json().id)).coupon.timesUsed).toBe(0);
    expect(await stockOf(t.deps, variant.id)).toBe(10);

    expect((await applyCoupon(customer.headers, coupon.code)).statusCode).toBe(200);
    const second = await placeOrder(t.app, customer.headers);
    expect(second.statusCode).toBe(201);
    expect(second.json()).toMatchObject({ coupon_code: coupon.code, discount_amount: '4.00' });
    const state = await consistent(coupon.id);
    expect(state.coupon.timesUsed).toBe(1);
    expect(state.held.map((r) => r.orderId)).toEqual([second.json().id]);
  });

  it('customer cancel of a confirmed order; with max_uses = 1 another customer can then use it', async () => {
    const coupon = await makeCoupon(t.deps, { code: 'REDEEM-PASS-1', maxUses: 1 });
    const { variant } = await makeVariant(t.deps, { stock: 10, price: '20.00' });
    const first = await cartWithCoupon(variant.id, coupon.code);
    const order = (await placeOrder(t.app, first.headers)).json();
    expect((await moveTo(order.id, 'confirmed')).statusCode).toBe(200);
    expect((await consistent(coupon.id)).coupon.timesUsed).toBe(1);

    const other = await signedInUser(t.app, t.deps);
    await addToCart(other.headers, variant.id, 2);
    const refused = await applyCoupon(other.headers, coupon.code);
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toEqual({ code: ['This coupon has been used up.'] });

    expect((await cancel(first.headers, order.id)).statusCode).toBe(200);
    expect((await released(coupon.id, order.id)).coupon.timesUsed).toBe(0);

    expect((await applyCoupon(other.headers, coupon.code)).statusCode).toBe(200);
    const theirs = await placeOrder(t.app, other.headers);
    expect(theirs.statusCode).toBe(201);
    expect(theirs.json()).toMatchObject({ coupon_code: coupon.code, discount_amount: '4.00' });
    const state = await consistent(coupon.id);
    expect(state.coupon.timesUsed).toBe(1);
    expect(state.held).toEqual([
      expect.objectContaining({ orderId: theirs.json().id, userId: other.user.id }),
    ]);
  });

  it('staff cancel (status/ → cancelled) of a pending and of a processing order gives the use back too', async () => {
    const coupon = await makeCoupon(t.deps, { code: 'REDEEM-STAFF-1', maxUses: 1 });
    const { variant } = await makeVariant(t.deps, { stock: 10, price: '20.00' });
    const first = await cartWithCoupon(variant.id, coupon.code);
    const pending = (await placeOrder(t.app, first.headers)).json();
    expect((await consistent(coupon.id)).coupon.timesUsed).toBe(1);

    const byStaff = await moveTo(pending.id, 'cancelled');
    expect(byStaff.statusCode).toBe(200);
    expect(byStaff.json().status).toBe('cancelled');
    expect((await released(coupon.id, pending.id)).coupon.timesUsed).toBe(0);

    const second = await cartWithCoupon(variant.id, coupon.code);
    const processing = (await placeOrder(t.app, second.headers)).json();
    expect(processing.coupon_code).toBe(coupon.code);
    expect((await consistent(coupon.id)).coupon.timesUsed).toBe(1);
    for (const status of ['confirmed', 'processing']) {
      expect((await moveTo(processing.id, status)).statusCode).toBe(200);
      expect((await consistent(coupon.id)).coupon.timesUsed).toBe(1);
    }
    expect((await moveTo(processing.id, 'cancelled')).statusCode).toBe(200);
    expect((await released(coupon.id, processing.id)).coupon.timesUsed).toBe(0);
    expect(await stockOf(t.deps, variant.id)).toBe(10);

    const third = await cartWithCoupon(variant.id, coupon.code);
    expect((await placeOrder(t.app, third.headers)).statusCode).toBe(201);
    expect((await consistent(coupon.id)).coupon.timesUsed).toBe(1);
  });

  it('cancelling twice gives one use back: times_used never drops below the held uses', async () => {
    const coupon = await makeCoupon(t.deps, { code: 'REDEEM-TWICE-1' });
    const { variant } = await makeVariant(t.deps, { stock: 10, price: '20.00' });
    const customer = await signedInUser(t.app, t.deps);
    const items = { items: [{ variant: variant.id, quantity: 1 }], coupon: coupon.code };
    const kept = await placeOrder(t.app, customer.headers, items);
    const gone = await placeOrder(t.app, customer.headers, items);
    expect([kept.statusCode, gone.statusCode]).toEqual([201, 201]);
    expect((await consistent(coupon.id)).coupon.timesUsed).toBe(2);

    expect((await cancel(customer.headers, gone.json().id)).statusCode).toBe(200);
    expect((await released(coupon.id, gone.json().id)).coupon.timesUsed).toBe(1);

    const again = await cancel(customer.headers, gone.json().id);
    expect(again.statusCode).toBe(409);
    expect(again.json()).toEqual({
      detail: 'Cannot move an order from cancelled to cancelled.',
      allowed: [],
    });
    expect((await consistent(coupon.id)).coupon.timesUsed).toBe(1);

    const byStaff = await moveTo(gone.json().id, 'cancelled');
    expect(byStaff.statusCode).toBe(409);
    expect(byStaff.json()).toEqual({
      detail: 'Cannot move an order from cancelled to cancelled.',
      allowed: [],
    });
    expect((await consistent(coupon.id)).coupon.timesUsed).toBe(1);

    // Released once however often it is called.
    expect(await transaction(t.deps.db, (tx) => releaseCoupon(tx, gone.json().id))).toBe(false);
    const state = await consistent(coupon.id);
    expect(state.coupon.timesUsed).toBe(1);
    expect(state.held.map((r) => r.orderId)).toEqual([kept.json().id]);
    expect(await stockOf(t.deps, variant.id)).toBe(9);
  });
});

describe('an order that goes on along the workflow', () => {
  it('keeps its use when confirmed, processing, shipped and delivered', async () => {
    const coupon = await makeCoupon(t.deps, { code: 'REDEEM-KEEP-1', maxUses: 1 });
    const { variant } = await makeVariant(t.deps, { stock: 10, price: '20.00' });
    const customer = await cartWithCoupon(variant.id, coupon.code);
    const order = (await placeOrder(t.app, customer.headers)).json();
    const other = await signedInUser(t.app, t.deps);
    await addToCart(other.headers, variant.id, 1);

    for (const status of ['confirmed', 'processing', 'shipped', 'delivered']) {
      const moved = await moveTo(order.id, status);
      expect(moved.statusCode).toBe(200);
      expect(moved.json()).toMatchObject({ status, coupon_code: coupon.code, discount_amount: '4.00' });
      const state = await consistent(coupon.id);
      expect(state.coupon.timesUsed).toBe(1);
      expect(state.redemptions).toEqual([
        expect.objectContaining({ orderId: order.id, state: 'held', releasedAt: null }),
      ]);
      // Still used up for everyone else.
      expect((await applyCoupon(other.headers, coupon.code)).json()).toEqual({
        code: ['This coupon has been used up.'],
      });
    }

    // A delivered order cannot be cancelled, and its use stays.
    const refused = await cancel(customer.headers, order.id);
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toEqual({
      detail: 'Cannot move an order from delivered to cancelled.',
      allowed: [],
    });
    const state = await consistent(coupon.id);
    expect(state.coupon.timesUsed).toBe(1);
    expect(state.held.map((r) => r.orderId)).toEqual([order.id]);
  });

  it('a shipped order is not cancellable by staff either, and keeps its use', async () => {
    const coupon = await makeCoupon(t.deps, { code: 'REDEEM-SHIP-1' });
    const { variant } = await makeVariant(t.deps, { stock: 10, price: '20.00' });
    const customer = await cartWithCoupon(variant.id, coupon.code);
    const order = (await placeOrder(t.app, customer.headers)).json();
    for (const status of ['confirmed', 'processing', 'shipped'])
      expect((await moveTo(order.id, status)).statusCode).toBe(200);

    const refused = await moveTo(order.id, 'cancelled');
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toEqual({
      detail: 'Cannot move an order from shipped to cancelled.',
      allowed: ['delivered'],
    });
    const state = await consistent(coupon.id);
    expect(state.coupon.timesUsed).toBe(1);
    expect(state.redemptions).toEqual([expect.objectContaining({ orderId: order.id, state: 'held' })]);
  });
});
