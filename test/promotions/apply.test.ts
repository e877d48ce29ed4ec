/**
 * Issue 10 (coupons on carts), SPEC §5 `POST /api/cart/coupon/ {code}` and `DELETE /api/cart/coupon/`:
 * a code is matched case-insensitively and trimmed, shown as stored, and replaces the cart's coupon;
 * every reason a code cannot apply (unknown, inactive, not started, expired, used up, used up for
 * this customer, subtotal under `min_subtotal`) is a 400 on `code` with its words and leaves the
 * cart as it was; the window is start-inclusive, end-exclusive to the millisecond; a coupon that
 * stops applying after it was applied stays on the cart at no discount and checkout refuses the cart
 * (409 `coupon_invalid`) writing nothing; anonymous callers get 401, staff have a cart too; bad
 * bodies are 400, never 500, and change nothing.
 */
import { eq, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deps } from '../../src/deps.js';
import { carts } from '../../src/modules/cart/tables.js';
import { queryRows } from '../../src/platform/db/client.js';
import { signedInUser } from '../helpers/accounts.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { makeVariant, placeOrder, stockOf } from '../helpers/commerce.js';
import { couponState, makeCoupon } from '../helpers/promotions.js';
import { cartClient, cartRows } from '../cart/fixtures.js';

const UNKNOWN = 'This coupon code is not valid.';
const INACTIVE = 'This coupon is no longer active.';
const USED_UP = 'This coupon has been used up.';
const USED_BY_YOU = 'You have already used this coupon.';

let tag = 0;
/** A code no other test of this file uses, in mixed case (matching is case-insensitive). */
const freshCode = (stem = 'Promo') => `${stem}${++tag}x${Math.random().toString(36).slice(2, 8)}`;

const couponCalls = (app: FastifyInstance, headers: Record<string, string>) => ({
  apply: (payload: unknown) =>
    app.inject({
      method: 'POST',
      url: '/api/cart/coupon/',
      headers: { ...headers, 'content-type': 'application/json' },
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    }),
  remove: () => app.inject({ method: 'DELETE', url: '/api/cart/coupon/', headers }),
});

/** A signed-in customer with the cart calls and the coupon calls. */
async function shopper(t: TestApp, fields: Parameters<typeof signedInUser>[2] = {}) {
  const { user, headers } = await signedInUser(t.app, t.deps, fields);
  return { user, headers, cart: cartClient(t.app, headers), ...couponCalls(t.app, headers) };
}
type Shopper = Awaited<ReturnType<typeof shopper>>;

/** A customer whose cart holds one line at `price` (stock 10). */
async function shopperWithCart(t: TestApp, price = '20.00') {
  const s = await shopper(t);
  const { variant } = await makeVariant(t.deps, { price, stock: 10 });
  expect((await s.cart.add(variant.id, 1)).statusCode).toBe(201);
  return { ...s, variant };
}

/** The customer's cart row: its coupon and `updated_at`, as stored. */
async function cartRowOf(deps: Deps, userId: number) {
  const [row] = await deps.db
    .select({ couponId: carts.couponId, updatedAt: carts.updatedAt })
    .from(carts)
    .where(eq(carts.userId, userId));
  return row;
}

/** Rows checkout writes, for "nothing was written". */
async function orderCounts(deps: Deps) {
  const [row] = await queryRows<{ orders: number; lines: number; redemptions: number; jobs: number }>(
    deps.db,
    sql`SELECT (SELECT count(*)::int FROM orders) AS orders, (SELECT count(*)::int FROM order_lines) AS lines,
               (SELECT count(*)::int FROM coupon_redemptions) AS redemptions,
               (SELECT count(*)::int FROM jobs WHERE name = 'send_order_confirmation') AS jobs`,
  );
  return row!;
}

/**
 * Sends `code` and expects SPEC's refusal: 400 `{"code": [reason]}`, with the cart row (its coupon
 * and `updated_at`) and the cart's answer as they were.
 */
async function expectRefused(t: TestApp, s: Shopper, code: unknown, reason: string) {
  const rowBefore = await cartRowOf(t.deps, s.user.id);
  const viewBefore = (await s.cart.get()).json();
  const res = await s.apply({ code });
  expect(res.statusCode).toBe(400);
  expect(res.json()).toEqual({ code: [reason] });
  expect(await cartRowOf(t.deps, s.user.id)).toEqual(rowBefore);
  expect((await s.cart.get()).json()).toEqual(viewBefore);
}

describe('applying and removing a coupon', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('applies a code matched case-insensitively and trimmed: 200 with the whole cart, the code as stored', async () => {
    const s = await shopperWithCart(t, '20.00');
    const coupon = await makeCoupon(t.deps, { code: freshCode('Spring-Sale'), kind: 'percent', value: '10' });
    const before = await cartRowOf(t.deps, s.user.id);
    const res = await s.apply({ code: `  ${coupon.code.toLowerCase()}\t ` });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      coupon: { code: coupon.code, kind: 'percent', value: '10.00' },
      subtotal: '20.00',
      discount_amount: '2.00',
      tax_amount: '0.00',
      shipping_amount: '5.00',
      total_amount: '23.00',
      item_count: 1,
    });
    expect(body.items).toHaveLength(1);
    expect(Object.keys(body).sort()).toEqual(
      [
        'id',
        'items',
        'coupon',
        'subtotal',
        'discount_amount',
        'tax_amount',
        'shipping_amount',
        'total_amount',
        'item_count',
        'updated_at',
      ].sort(),
    );
    // Stored on the cart, and what a later read shows.
    const after = await cartRowOf(t.deps, s.user.id);
    expect(after!.couponId).toBe(coupon.id);
    expect(after!.updatedAt.getTime()).toBeGreaterThanOrEqual(before!.updatedAt.getTime());
    expect((await s.cart.get()).json()).toEqual(body);
    // A quote, not a use.
    expect((await couponState(t.deps, coupon.id)).coupon.timesUsed).toBe(0);
  });

  it('upper-cases and mixes cases just the same', async () => {
    const s = await shopperWithCart(t, '20.00');
    const coupon = await makeCoupon(t.deps, { code: freshCode('mixedCase'), kind: 'fixed', value: '3.50' });
    const res = await s.apply({ code: coupon.code.toUpperCase() });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      coupon: { code: coupon.code, kind: 'fixed', value: '3.50' },
      discount_amount: '3.50',
      total_amount: '21.50',
    });
  });

  it('replaces the cart’s coupon with another', async () => {
    const s = await shopperWithCart(t, '20.00');
    const first = await makeCoupon(t.deps, { code: freshCode(), kind: 'percent', value: '10' });
    const second = await makeCoupon(t.deps, { code: freshCode(), kind: 'fixed', value: '5.00' });
    expect((await s.apply({ code: first.code })).json().discount_amount).toBe('2.00');
    const res = await s.apply({ code: second.code });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      coupon: { code: second.code, kind: 'fixed', value: '5.00' },
      discount_amount: '5.00',
      total_amount: '20.00',
    });
    expect((await cartRowOf(t.deps, s.user.id))!.couponId).toBe(second.id);
    expect((await s.cart.get()).json().coupon).toEqual({ code: second.code, kind: 'fixed', value: '5.00' });
  });

  it('removes the coupon: 200 with coupon null and no discount', async () => {
    const s = await shopperWithCart(t, '20.00');
    const coupon = await makeCoupon(t.deps, { code: freshCode() });
    expect((await s.apply({ code: coupon.code })).statusCode).toBe(200);
    const res = await s.remove();
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      coupon: null,
      subtotal: '20.00',
      discount_amount: '0.00',
      shipping_amount: '5.00',
      total_amount: '25.00',
      item_count: 1,
    });
    expect(res.json().items).toHaveLength(1);
    expect((await cartRowOf(t.deps, s.user.id))!.couponId).toBeNull();
    expect((await s.cart.get()).json()).toEqual(res.json());
  });

  it('removes from a cart without a coupon (even one not made yet): 200, coupon null', async () => {
    const fresh = await shopper(t);
    const res = await fresh.remove();
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ coupon: null, items: [], discount_amount: '0.00', subtotal: '0.00' });

    const s = await shopperWithCart(t, '20.00');
    const again = await s.remove();
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ coupon: null, discount_amount: '0.00', total_amount: '25.00' });
  });

  describe('refusals: 400 on `code` with the reason, the cart as it was', () => {
    /** A customer whose cart already holds a good coupon: a refusal must leave exactly that one. */
    async function shopperWithCoupon(price = '20.00') {
      const s = await shopperWithCart(t, price);
      const held = await makeCoupon(t.deps, { code: freshCode('Held'), kind: 'fixed', value: '1.00' });
      expect((await s.apply({ code: held.code })).statusCode).toBe(200);
      expect((await cartRowOf(t.deps, s.user.id))!.couponId).toBe(held.id);
      return { ...s, held };
    }

    it('an unknown code, and one that is only spaces', async () => {
      const s = await shopperWithCoupon();
      await expectRefused(t, s, freshCode('Nope'), UNKNOWN);
      await expectRefused(t, s, '   ', UNKNOWN);
      // A unique prefix is not a match.
      const real = await makeCoupon(t.deps, { code: freshCode('Prefix') });
      await expectRefused(t, s, real.code.slice(0, -1), UNKNOWN);
      expect((await cartRowOf(t.deps, s.user.id))!.couponId).toBe(s.held.id);
    });

    it('an inactive coupon', async () => {
      const s = await shopperWithCoupon();
      const coupon = await makeCoupon(t.deps, { code: freshCode(), isActive: false });
      await expectRefused(t, s, coupon.code, INACTIVE);
    });

    it('a coupon used up by other customers’ orders', async () => {
      const coupon = await makeCoupon(t.deps, { code: freshCode(), maxUses: 2 });
      for (let i = 0; i < 2; i++) {
        const buyer = await shopper(t);
        const { variant } = await makeVariant(t.deps, { price: '20.00' });
        const res = await placeOrder(t.app, buyer.headers, {
          items: [{ variant: variant.id, quantity: 1 }],
          coupon: coupon.code,
        });
        expect(res.statusCode).toBe(201);
      }
      expect((await couponState(t.deps, coupon.id)).coupon.timesUsed).toBe(2);
      const s = await shopperWithCoupon();
      await expectRefused(t, s, coupon.code, USED_UP);
    });

    it('a coupon whose times_used reached max_uses', async () => {
      const coupon = await makeCoupon(t.deps, { code: freshCode(), maxUses: 3, timesUsed: 3 });
      const s = await shopperWithCoupon();
      await expectRefused(t, s, coupon.code, USED_UP);
    });

    it('a coupon this customer already used (max_uses_per_user 1); another customer may still apply it', async () => {
      const coupon = await makeCoupon(t.deps, { code: freshCode(), maxUsesPerUser: 1 });
      const s = await shopperWithCoupon();
      const { variant } = await makeVariant(t.deps, { price: '20.00' });
      const order = await placeOrder(t.app, s.headers, {
        items: [{ variant: variant.id, quantity: 1 }],
        coupon: coupon.code,
      });
      expect(order.statusCode).toBe(201);
      await expectRefused(t, s, coupon.code, USED_BY_YOU);

      const other = await shopperWithCart(t, '20.00');
      const res = await other.apply({ code: coupon.code });
      expect(res.statusCode).toBe(200);
      expect(res.json().coupon).toEqual({ code: coupon.code, kind: 'percent', value: '10.00' });
    });

    it('a coupon used up for this customer at a limit above one names the limit', async () => {
      const coupon = await makeCoupon(t.deps, { code: freshCode(), maxUsesPerUser: 2 });
      const s = await shopperWithCoupon();
      for (let i = 0; i < 2; i++) {
        const { variant } = await makeVariant(t.deps, { price: '20.00' });
        const order = await placeOrder(t.app, s.headers, {
          items: [{ variant: variant.id, quantity: 1 }],
          coupon: coupon.code,
        });
        expect(order.statusCode).toBe(201);
      }
      await expectRefused(
        t,
        s,
        coupon.code,
        'You have already used this coupon 2 times, its limit per customer.',
      );
    });

    it('a subtotal under min_subtotal, naming the amount; at exactly the minimum it applies', async () => {
      const coupon = await makeCoupon(t.deps, { code: freshCode(), minSubtotal: '30.00' });
      const s = await shopperWithCoupon('29.99');
      await expectRefused(t, s, coupon.code, 'This coupon needs a subtotal of at least 30.00.');

      const enough = await shopperWithCart(t, '30.00');
      const res = await enough.apply({ code: coupon.code });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ subtotal: '30.00', discount_amount: '3.00' });
    });

    it('an empty cart under a min_subtotal', async () => {
      const coupon = await makeCoupon(t.deps, { code: freshCode(), minSubtotal: '0.01' });
      const s = await shopper(t);
      expect((await s.cart.get()).statusCode).toBe(200);
      await expectRefused(t, s, coupon.code, 'This coupon needs a subtotal of at least 0.01.');
    });
  });

  describe('a coupon that stops applying after it was applied', () => {
    let staff: Shopper;
    beforeAll(async () => {
      staff = await shopper(t, { isStaff: true });
    });

    /** Checkout of the cart is refused 409 `coupon_invalid` naming `reason`, and writes nothing. */
    async function expectCheckoutRefused(s: Shopper, variantIds: string[], couponId: number, reason: string) {
      const counts = await orderCounts(t.deps);
      const stock = await Promise.all(variantIds.map((id) => stockOf(t.deps, id)));
      const rows = await cartRows(t.deps);
      const cartRow = await cartRowOf(t.deps, s.user.id);
      const timesUsed = (await couponState(t.deps, couponId)).coupon.timesUsed;

      const res = await placeOrder(t.app, s.headers);
      expect(res.statusCode).toBe(409);
      expect(res.json()).toEqual({ detail: expect.stringContaining(reason), code: 'coupon_invalid' });

      expect(await orderCounts(t.deps)).toEqual(counts);
      expect(await Promise.all(variantIds.map((id) => stockOf(t.deps, id)))).toEqual(stock);
      expect(await cartRows(t.deps)).toEqual(rows);
      expect(await cartRowOf(t.deps, s.user.id)).toEqual(cartRow);
      expect(cartRow!.couponId).toBe(couponId);
      const after = await couponState(t.deps, couponId);
      expect(after.coupon.timesUsed).toBe(timesUsed);
      expect(after.held).toHaveLength(0);
    }

    it('deactivated by staff: stays on the cart at full price, and checkout is refused 409 writing nothing', async () => {
      const s = await shopperWithCart(t, '20.00');
      const coupon = await makeCoupon(t.deps, { code: freshCode(), kind: 'percent', value: '10' });
      expect((await s.apply({ code: coupon.code })).json().discount_amount).toBe('2.00');

      const off = await t.app.inject({
        method: 'PATCH',
        url: `/api/coupons/${coupon.id}/`,
        headers: staff.headers,
        payload: { is_active: false },
      });
      expect(off.statusCode).toBe(200);

      const view = await s.cart.get();
      expect(view.statusCode).toBe(200);
      expect(view.json()).toMatchObject({
        coupon: { code: coupon.code, kind: 'percent', value: '10.00' },
        subtotal: '20.00',
        discount_amount: '0.00',
        tax_amount: '0.00',
        shipping_amount: '5.00',
        total_amount: '25.00',
      });
      await expectCheckoutRefused(s, [s.variant.id], coupon.id, INACTIVE);

      // Removed, the cart checks out at full price; active again, it would have applied.
      expect((await s.remove()).statusCode).toBe(200);
      const placed = await placeOrder(t.app, s.headers);
      expect(placed.statusCode).toBe(201);
      expect(placed.json()).toMatchObject({
        coupon_code: null,
        discount_amount: '0.00',
        total_amount: '25.00',
      });
    });

    it('the subtotal drops under min_subtotal: stays at no discount, and checkout is refused 409 writing nothing', async () => {
      const s = await shopperWithCart(t, '20.00');
      const { variant: extra } = await makeVariant(t.deps, { price: '15.00', stock: 10 });
      const added = await s.cart.add(extra.id, 1);
      expect(added.statusCode).toBe(201);
      const extraLine = added
        .json()
        .items.find((i: { variant: { id: string } }) => i.variant.id === extra.id).id;

      const coupon = await makeCoupon(t.deps, { code: freshCode(), minSubtotal: '30.00', value: '10' });
      expect((await s.apply({ code: coupon.code })).json()).toMatchObject({
        subtotal: '35.00',
        discount_amount: '3.50',
      });

      const removed = await s.cart.remove(extraLine);
      expect(removed.statusCode).toBe(200);
      expect(removed.json()).toMatchObject({
        coupon: { code: coupon.code, kind: 'percent', value: '10.00' },
        subtotal: '20.00',
        discount_amount: '0.00',
        total_amount: '25.00',
      });
      expect((await s.cart.get()).json()).toMatchObject({
        coupon: { code: coupon.code },
        discount_amount: '0.00',
        total_amount: '25.00',
      });
      await expectCheckoutRefused(
        s,
        [s.variant.id, extra.id],
        coupon.id,
        'This coupon needs a subtotal of at least 30.00.',
      );

      // Back over the minimum, the discount returns and checkout takes the use.
      expect((await s.cart.add(extra.id, 1)).json().discount_amount).toBe('3.50');
      const placed = await placeOrder(t.app, s.headers);
      expect(placed.statusCode).toBe(201);
      expect(placed.json()).toMatchObject({ coupon_code: coupon.code, discount_amount: '3.50' });
      expect((await couponState(t.deps, coupon.id)).coupon.timesUsed).toBe(1);
    });
  });

  describe('who may call', () => {
    it('answers anonymous callers 401 on both, whatever the body', async () => {
      const coupon = await makeCoupon(t.deps, { code: freshCode() });
      const anonymous = couponCalls(t.app, {});
      // (A body that is not JSON at all is refused by the parser, which runs before any hook: 400.)
      for (const res of [
        await anonymous.apply({ code: coupon.code }),
        await anonymous.apply({}),
        await anonymous.apply({ code: 5 }),
        await anonymous.apply('[]'),
        await anonymous.remove(),
      ]) {
        expect(res.statusCode).toBe(401);
        expect(res.json()).toEqual({ detail: 'Authentication credentials were not provided.' });
      }
    });

    it('gives staff a cart of their own to apply and remove coupons on', async () => {
      const staff = await shopper(t, { isStaff: true, isSuperuser: true });
      const coupon = await makeCoupon(t.deps, { code: freshCode() });
      const applied = await staff.apply({ code: coupon.code });
      expect(applied.statusCode).toBe(200);
      expect(applied.json().coupon).toEqual({ code: coupon.code, kind: 'percent', value: '10.00' });
      expect((await cartRowOf(t.deps, staff.user.id))!.couponId).toBe(coupon.id);
      const removed = await staff.remove();
      expect(removed.statusCode).toBe(200);
      expect(removed.json().coupon).toBeNull();
    });
  });

  describe('bad bodies: 400, never 500, the cart unchanged', () => {
    it.each([
      ['a missing code', {}, { code: ['This field is required.'] }],
      ['a number', { code: 5 }, { code: ['Not a valid string.'] }],
      ['null', { code: null }, { code: ['This field may not be null.'] }],
      ['a list', { code: ['A'] }, { code: ['Not a valid string.'] }],
      ['an empty string', { code: '' }, { code: ['This field may not be blank.'] }],
      [
        '101 characters',
        { code: 'A'.repeat(101) },
        { code: ['Ensure this field has no more than 100 characters.'] },
      ],
      ['100 characters (unknown)', { code: 'A'.repeat(100) }, { code: [UNKNOWN] }],
      // Unknown fields are ignored (the project's DRF convention): the refusal is the code's.
      ['an extra field with an unknown code', { code: 'IGNORED', discount: '100.00' }, { code: [UNKNOWN] }],
      ['a JSON array', [], undefined],
      ['malformed JSON', '{"code": ', undefined],
    ])('%s', async (_what, payload, expected) => {
      const s = await shopperWithCart(t, '20.00');
      const held = await makeCoupon(t.deps, { code: freshCode('Held') });
      expect((await s.apply({ code: held.code })).statusCode).toBe(200);
      const row = await cartRowOf(t.deps, s.user.id);
      const view = (await s.cart.get()).json();

      const res = await s.apply(payload);
      expect(res.statusCode).toBe(400);
      if (expected) expect(res.json()).toEqual(expected);

      expect(await cartRowOf(t.deps, s.user.id)).toEqual(row);
      expect((await s.cart.get()).json()).toEqual(view);
    });

    it('an extra field next to a good code is ignored: the coupon’s own discount, nothing more', async () => {
      const s = await shopperWithCart(t, '20.00');
      const coupon = await makeCoupon(t.deps, { code: freshCode() });
      const res = await s.apply({ code: coupon.code, discount_amount: '20.00', kind: 'fixed', value: '99' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({
        coupon: { code: coupon.code, kind: 'percent', value: '10.00' },
        discount_amount: '2.00',
        total_amount: '23.00',
      });
      expect((await cartRowOf(t.deps, s.user.id))!.couponId).toBe(coupon.id);
    });
  });
});

describe('the coupon’s window, on an injected clock (starts_at inclusive, ends_at exclusive)', () => {
  let t: TestApp;
  // Near the real time, so the access tokens signed on this clock stay valid.
  let now = new Date();
  beforeAll(async () => {
    t = await createTestApp({ clock: () => now });
  });
  afterAll(() => t.close());

  /** A whole second a minute ahead of the clock: the refusal names it to the second. */
  const aheadOfClock = (ms = 60_000) => new Date(Math.ceil((now.getTime() + ms) / 1000) * 1000);
  const seconds = (at: Date) => at.toISOString().replace('.000Z', 'Z');

  it('refuses a coupon not started yet, 1 ms before starts_at too, and applies it at exactly starts_at', async () => {
    now = new Date();
    const startsAt = aheadOfClock();
    const coupon = await makeCoupon(t.deps, { code: freshCode(), startsAt });
    const s = await shopperWithCart(t, '20.00');
    const reason = `This coupon is not valid until ${seconds(startsAt)}.`;

    await expectRefused(t, s, coupon.code, reason);
    now = new Date(startsAt.getTime() - 1);
    await expectRefused(t, s, coupon.code, reason);

    now = new Date(startsAt.getTime());
    const res = await s.apply({ code: coupon.code });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ coupon: { code: coupon.code }, discount_amount: '2.00' });
    expect(res.json().updated_at).toBe(startsAt.toISOString());
  });

  it('applies a coupon 1 ms before ends_at and refuses it at exactly ends_at, when it also stops showing a discount', async () => {
    now = new Date();
    const endsAt = aheadOfClock();
    const coupon = await makeCoupon(t.deps, { code: freshCode(), endsAt });
    const s = await shopperWithCart(t, '20.00');
    const reason = `This coupon expired at ${seconds(endsAt)}.`;

    now = new Date(endsAt.getTime() - 1);
    const res = await s.apply({ code: coupon.code });
    expect(res.statusCode).toBe(200);
    expect(res.json().discount_amount).toBe('2.00');

    // At ends_at it applies no more: still on the cart, shown at full price, checkout refused.
    now = new Date(endsAt.getTime());
    expect((await s.cart.get()).json()).toMatchObject({
      coupon: { code: coupon.code },
      discount_amount: '0.00',
      total_amount: '25.00',
    });
    const counts = await orderCounts(t.deps);
    const checkout = await placeOrder(t.app, s.headers);
    expect(checkout.statusCode).toBe(409);
    expect(checkout.json()).toEqual({ detail: expect.stringContaining(reason), code: 'coupon_invalid' });
    expect(await orderCounts(t.deps)).toEqual(counts);
    expect(await stockOf(t.deps, s.variant.id)).toBe(10);
    expect((await couponState(t.deps, coupon.id)).coupon.timesUsed).toBe(0);

    // Applying it again is refused, and the cart keeps it as it was.
    await s.remove();
    await expectRefused(t, s, coupon.code, reason);
    now = new Date(endsAt.getTime() + 1);
    await expectRefused(t, s, coupon.code, reason);
  });

  it('a refusal on a moving clock leaves updated_at where the last change put it', async () => {
    now = new Date();
    const s = await shopperWithCart(t, '20.00');
    const good = await makeCoupon(t.deps, { code: freshCode() });
    expect((await s.apply({ code: good.code })).statusCode).toBe(200);
    const stamped = (await cartRowOf(t.deps, s.user.id))!.updatedAt;
    expect(stamped.getTime()).toBe(now.getTime());

    now = new Date(now.getTime() + 5_000);
    const inactive = await makeCoupon(t.deps, { code: freshCode(), isActive: false });
    await expectRefused(t, s, inactive.code, INACTIVE);
    expect((await cartRowOf(t.deps, s.user.id))!.updatedAt).toEqual(stamped);
  });
});
